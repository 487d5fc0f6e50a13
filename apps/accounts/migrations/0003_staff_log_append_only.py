"""The staff action log (django-auditlog's LogEntry) is append-only: rows can be added, never
changed or deleted (only the actor link may be cleared, should a user row ever go)."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION staff_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
     AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the staff action log is append-only (% refused)', TG_OP
    USING ERRCODE = 'FS001';
END $$;
CREATE TRIGGER staff_log_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
  FOR EACH ROW EXECUTE FUNCTION staff_log_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS staff_log_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS staff_log_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_profile_and_devices"),
        ("auditlog", "0017_add_actor_email"),
    ]
    operations = [migrations.RunSQL(SQL, REVERSE)]
