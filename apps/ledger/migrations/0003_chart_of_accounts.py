from django.conf import settings
from django.db import migrations

from apps.ledger import chart


def create_chart(apps, schema_editor):
    chart.ensure(apps.get_model("ledger", "Account"), apps.get_model("ledger", "Balance"),
                 settings.LEDGER_CURRENCIES, settings.LEDGER_PROVIDERS)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_posting_functions")]

    operations = [migrations.RunPython(create_chart, migrations.RunPython.noop)]
