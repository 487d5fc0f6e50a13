# The attribute is renamed so it no longer hides Model.clean(); the column keeps its name,
# so only Django's model state changes and no statement runs on the table.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_settlement_line_append_only")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("reconciliationrun", "clean", "is_clean"),
                migrations.AlterField(
                    "reconciliationrun",
                    "is_clean",
                    models.BooleanField("clean", default=False, db_column="clean"),
                ),
            ],
        ),
    ]
