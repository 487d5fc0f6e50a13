from pathlib import Path

from django.db import migrations

# The outbox writer as it is now (PL/pgSQL: its plan is kept for the session).
WRITER = (Path(__file__).resolve().parent.parent / "sql" / "outbox.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("core", "0008_outbox_writer")]

    operations = [migrations.RunSQL(WRITER, reverse_sql=migrations.RunSQL.noop)]
