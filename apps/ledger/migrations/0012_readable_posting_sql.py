from pathlib import Path

from django.db import migrations

# The posting functions as they are now: legs and pending amounts with spelled-out keys,
# applied per shard in lock order.
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_outbox_through_core")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop)]
