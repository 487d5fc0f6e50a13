"""The payment state machine, enforced by PostgreSQL too: an UPDATE that moves a payment
along an edge not in models.TRANSITIONS fails, whoever issues it (raw SQL included)."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION payments_state_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state AND NOT (
       (OLD.state = 'requires_confirmation'
        AND NEW.state IN ('processing', 'in_review', 'canceled'))
    OR (OLD.state = 'in_review' AND NEW.state IN ('processing', 'canceled'))
    OR (OLD.state = 'processing' AND NEW.state IN ('succeeded', 'failed'))
  ) THEN
    RAISE EXCEPTION 'illegal payment transition % -> %', OLD.state, NEW.state
      USING ERRCODE = 'FS002';
  END IF;
  IF NEW.amount <> OLD.amount OR NEW.currency <> OLD.currency OR NEW.direction <> OLD.direction
     OR NEW.wallet_account_id <> OLD.wallet_account_id THEN
    RAISE EXCEPTION 'a payment''s amount, currency, direction and wallet never change'
      USING ERRCODE = 'FS002';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payments_state_guard BEFORE UPDATE ON payments_payment
  FOR EACH ROW EXECUTE FUNCTION payments_state_guard();
"""
REVERSE = """
DROP TRIGGER IF EXISTS payments_state_guard ON payments_payment;
DROP FUNCTION IF EXISTS payments_state_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_manual_actions")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
