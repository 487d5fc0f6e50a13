from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("core", "0001_initial")]

    operations = [
        migrations.RunSQL(
            (SQL / "functions.sql").read_text() + (SQL / "triggers.sql").read_text(),
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
