"""Uploaded settlement lines are what reconciliation compares our payments against: rows can be
added, never changed or deleted, so a break cannot be made to vanish by editing the evidence."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION reports_settlement_line_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'settlement lines are append-only (% refused)', TG_OP USING ERRCODE = 'FS004';
END $$;
CREATE TRIGGER reports_settlement_line_append_only BEFORE UPDATE OR DELETE
  ON reports_settlementline FOR EACH ROW EXECUTE FUNCTION reports_settlement_line_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS reports_settlement_line_append_only ON reports_settlementline;
DROP FUNCTION IF EXISTS reports_settlement_line_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_read_models_reconciliation")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
