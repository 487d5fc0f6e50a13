from pathlib import Path

from django.db import migrations, models

import apps.core.ids

# The posting functions as they are now: new transactions, holds and outbox rows get
# time-ordered ids (core_uuid7()).
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_balance_ceiling"), ("core", "0004_uuid7")]

    operations = [
        migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="transaction",
            name="id",
            field=models.UUIDField(
                default=apps.core.ids.uuid7, editable=False, primary_key=True, serialize=False
            ),
        ),
        migrations.AlterField(
            model_name="hold",
            name="id",
            field=models.UUIDField(
                default=apps.core.ids.uuid7, editable=False, primary_key=True, serialize=False
            ),
        ),
    ]
