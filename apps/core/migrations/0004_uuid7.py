from pathlib import Path

from django.db import migrations, models

import apps.core.ids

UUID7 = (Path(__file__).resolve().parent.parent / "sql" / "uuid7.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("core", "0003_outbox_created_brin")]

    operations = [
        migrations.RunSQL(UUID7, reverse_sql="DROP FUNCTION IF EXISTS core_uuid7()"),
        migrations.AlterField(
            model_name="outboxevent",
            name="id",
            field=models.UUIDField(
                default=apps.core.ids.uuid7, editable=False, primary_key=True, serialize=False
            ),
        ),
    ]
