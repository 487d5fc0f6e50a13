from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "0002_posting.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("core", "0001_initial")]

    operations = [migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop)]
