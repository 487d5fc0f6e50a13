from pathlib import Path

from django.db import migrations

# The posting function with the shard pick and the entry hash inlined on its hot path.
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0012_readable_posting_sql")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop)]
