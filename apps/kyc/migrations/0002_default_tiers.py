from django.db import migrations

from apps.kyc import tiers


def create(apps, schema_editor):
    tiers.ensure(apps.get_model("kyc", "Tier"), apps.get_model("kyc", "TierLimit"))


class Migration(migrations.Migration):
    dependencies = [("kyc", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
