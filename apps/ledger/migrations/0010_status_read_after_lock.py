from pathlib import Path

from django.db import migrations

# The posting functions as they are now: an account's status is read after its shard lock,
# so a posting that waited on a freeze or a closure sees it.
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_reversals")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop)]
