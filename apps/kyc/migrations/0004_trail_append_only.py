from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION kyc_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the KYC case trail is append-only (% refused)', TG_OP USING ERRCODE = 'FS003';
END $$;
CREATE TRIGGER kyc_trail_append_only BEFORE UPDATE OR DELETE ON kyc_casetransition
  FOR EACH ROW EXECUTE FUNCTION kyc_trail_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS kyc_trail_append_only ON kyc_casetransition;
DROP FUNCTION IF EXISTS kyc_trail_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("kyc", "0003_cases_documents_screening")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
