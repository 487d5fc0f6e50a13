from pathlib import Path

from django.db import migrations

WRITER = (Path(__file__).resolve().parent.parent / "sql" / "outbox.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("core", "0007_outbox_settled")]

    operations = [
        migrations.RunSQL(
            WRITER, reverse_sql="DROP FUNCTION IF EXISTS core_outbox_write(uuid, text, jsonb, text)"
        )
    ]
