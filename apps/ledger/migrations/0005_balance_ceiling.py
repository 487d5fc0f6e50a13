from pathlib import Path

from django.db import migrations

# The posting functions as they are now (a credit leg may carry a balance ceiling).
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_reversed_once_partial")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop)]
