from pathlib import Path

from django.db import migrations

# The posting functions as they are now: a retry under a key is compared with what was posted
# under it, so the digest of each request (computed by the client on every posting) goes.
FUNCTIONS = (Path(__file__).resolve().parent.parent / "sql" / "functions.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_time_ordered_ids")]

    operations = [
        migrations.RunSQL(FUNCTIONS, reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveField(model_name="hold", name="fingerprint"),
        migrations.RemoveField(model_name="transaction", name="fingerprint"),
    ]
