"""Legal hold permission; screening hits per customer, each decided on its own (true match /
false positive, with a note, who and when), instead of a `cleared` flag set wholesale when a
case was approved.

Before, every submission screened again and raised its own hits, so a customer could hold the
same undecided hit several times (a resubmission, a withdrawn case): one is kept per entry, on
the open case if there is one, else the latest. No decision is lost: the others were never
decided."""

import hashlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _fingerprint(entry) -> str:
    # As apps.kyc.screening.fingerprint at the time of writing (migrations keep their copy).
    parts = (
        entry.name.strip().casefold(),
        entry.list_name.strip().casefold(),
        entry.country.upper(),
        entry.date_of_birth.isoformat() if entry.date_of_birth else "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


OPEN = {"draft", "submitted", "in_review", "pending_second_review", "needs_resubmission"}


def forwards(apps, schema_editor):
    ScreeningHit = apps.get_model("kyc", "ScreeningHit")
    hits = sorted(
        ScreeningHit.objects.select_related("case", "entry"),
        key=lambda h: (h.case.state in OPEN, h.pk),
        reverse=True,
    )
    open_questions = set()
    for hit in hits:
        if not hit.cleared:
            question = (hit.case.user_id, hit.entry_id)
            if question in open_questions:
                hit.delete()
                continue
            open_questions.add(question)
        hit.user_id = hit.case.user_id
        hit.entry_fingerprint = _fingerprint(hit.entry)
        if hit.cleared:
            hit.decision = "false_positive"
            hit.note = "cleared when the case was approved (before per-hit decisions)"
            hit.decided_at = hit.case.decided_at or django.utils.timezone.now()
        hit.save()


def backwards(apps, schema_editor):
    ScreeningHit = apps.get_model("kyc", "ScreeningHit")
    ScreeningHit.objects.filter(case__isnull=True).delete()  # the old shape needs a case
    ScreeningHit.objects.exclude(decision="pending").update(cleared=True)


class Migration(migrations.Migration):
    dependencies = [
        ("kyc", "0004_trail_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="case",
            options={
                "permissions": (
                    ("review_case", "Can review KYC cases"),
                    ("legal_hold", "Can set and lift a legal hold on KYC cases"),
                )
            },
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="entry_fingerprint",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="found_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="decision",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("true_match", "True Match"),
                    ("false_positive", "False Positive"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="note",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="screeninghit",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="screeninghit",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="hits",
                to="kyc.case",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="screeninghit", name="cleared"),
        migrations.AlterField(
            model_name="screeninghit",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="screeninghit",
            constraint=models.UniqueConstraint(
                condition=models.Q(("decision", "pending")),
                fields=("user", "entry"),
                name="kyc_one_open_hit_per_entry",
            ),
        ),
        migrations.AddConstraint(
            model_name="screeninghit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("decided_at__isnull", True), ("decision", "pending")),
                    models.Q(
                        models.Q(("decision", "pending"), _negated=True),
                        ("decided_at__isnull", False),
                        models.Q(("note", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="kyc_hit_decided_with_note",
            ),
        ),
    ]
