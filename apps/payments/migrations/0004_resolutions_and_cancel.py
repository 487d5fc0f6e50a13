"""A canceled payment records why; manual actions name their kind; a review can end
withdrawn; and the database's state guard (0003) follows models.TRANSITIONS again, which now
lets a staff resolution book a payment we had given up (failed/canceled -> succeeded) and a
customer cancel a payment not yet sent to the bank (processing -> canceled)."""

from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION payments_state_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state AND NOT (
       (OLD.state = 'requires_confirmation'
        AND NEW.state IN ('processing', 'in_review', 'canceled'))
    OR (OLD.state = 'in_review' AND NEW.state IN ('processing', 'canceled'))
    OR (OLD.state = 'processing' AND NEW.state IN ('succeeded', 'failed', 'canceled'))
    OR (OLD.state IN ('failed', 'canceled') AND NEW.state = 'succeeded')
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
"""
GUARD_BEFORE = """
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
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_state_machine_in_the_database"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="cancellation_reason",
            field=models.CharField(
                blank=True,
                help_text="why it was canceled, e.g. requested_by_customer",
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="manualaction",
            name="action",
            field=models.CharField(
                choices=[
                    ("compensate", "Compensate: cancel at the bank, release the hold"),
                    ("book", "Book it: post what the bank did"),
                    ("return", "Return the money: refunded at the bank, not booked"),
                    ("close", "Close as resolved: no money moves"),
                ],
                default="compensate",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="riskreview",
            name="decision",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunSQL(GUARD, GUARD_BEFORE),
    ]
