import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.money import Money
from apps.ledger import services
from apps.ledger.models import Account, Checkpoint, Currency, VerificationReport
from apps.ledger.tests.factories import open_wallet_account

pytestmark = pytest.mark.django_db
SCRIPT = Path(settings.BASE_DIR) / "scripts" / "verify_checkpoints.py"


def test_ledger_verify_is_clean_then_names_a_tampered_balance(capsys):
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(10, "EUR"),
        idempotency_key="cmd-1",
    )
    call_command("ledger_verify")
    assert "ledger_verify: clean" in capsys.readouterr().out
    with connection.cursor() as cursor:  # negative control: a stored balance edited by hand
        cursor.execute(
            "UPDATE ledger_balance SET posted_credits = posted_credits + 5 WHERE account_id = %s",
            [bob],
        )
    with pytest.raises(CommandError, match="breaks"):
        call_command("ledger_verify")
    out = capsys.readouterr().out
    assert "BREAK stored_balance wallet:test-" in out
    assert "BREAK conservation EUR" in out
    assert VerificationReport.objects.filter(ok=False).exists()


def test_ledger_bootstrap_is_idempotent_and_dry_run_writes_nothing(capsys):
    call_command("ledger_bootstrap")
    assert "0 accounts created" in capsys.readouterr().out
    Currency.objects.create(code="JPY")  # a row written without its accounts (e.g. by SQL)
    before = Account.objects.count()
    call_command("ledger_bootstrap", "--dry-run")
    assert "would create bank_clearing:simulated:JPY" in capsys.readouterr().out
    assert Account.objects.count() == before
    call_command("ledger_bootstrap")
    assert "5 accounts created" in capsys.readouterr().out
    call_command("ledger_bootstrap")
    assert "0 accounts created" in capsys.readouterr().out


def test_checkpoints_seal_export_and_verify_offline(tmp_path, capsys):
    wallet = open_wallet_account(funded=100)
    for n in range(3):
        services.transfer_post(
            debit_account_id=wallet,
            credit_account_id=open_wallet_account(),
            amount=Money(1, "EUR"),
            idempotency_key=f"cp-{n}",
        )
    today = datetime.now(UTC).date()
    # Entries were posted today: seal today and tomorrow explicitly (the beat job seals only
    # whole past days).
    services.checkpoint_seal(day=today)
    services.checkpoint_seal(day=today + timedelta(days=1))
    assert Checkpoint.objects.count() == 2
    files = []
    for day in (today, today + timedelta(days=1)):
        path = tmp_path / f"{day}.json"
        call_command("ledger_checkpoint", "--export", day.isoformat(), "--output", str(path))
        files.append(path)
    assert json.loads(files[0].read_text())["heads"]
    run = subprocess.run(
        [sys.executable, SCRIPT, *map(str, files)], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout.strip()) == (0, "OK 2 checkpoints")
    assert services.verify().ok

    tampered = json.loads(files[0].read_text())
    tampered["heads"][0]["seq"] += 1
    files[0].write_text(json.dumps(tampered))
    run = subprocess.run(
        [sys.executable, SCRIPT, *map(str, files)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert run.stdout.startswith(f"BROKEN {today}")


def test_sealed_history_cannot_change_unnoticed():
    wallet = open_wallet_account(funded=100)
    today = datetime.now(UTC).date()
    services.checkpoint_seal(day=today)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE ledger_entry SET hash = '\\x00' WHERE account_id = %s", [wallet])
    checks = {b["check"] for b in services.verify().breaks}
    assert {"checkpoint_head", "hash_chain"} <= checks


def test_export_of_an_unsealed_day_fails_clearly():
    with pytest.raises(CommandError, match="not sealed"):
        call_command("ledger_checkpoint", "--export", "2001-01-01")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("ledger_checkpoint", "--export", "yesterday")
