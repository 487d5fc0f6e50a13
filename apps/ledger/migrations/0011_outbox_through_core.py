from pathlib import Path

from django.db import migrations

# The posting functions as they are now: their events are written by core's
# core_outbox_write(), the one writer of outbox rows.
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_status_read_after_lock"), ("core", "0008_outbox_writer")]

    operations = [migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop)]
