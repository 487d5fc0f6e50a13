import uuid

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.core.testing import run_threads
from apps.ledger import selectors, services
from apps.ledger.models import Entry, Reversal, Transaction
from apps.ledger.tests.factories import open_wallet_account

pytestmark = pytest.mark.django_db

MAKER_PERMS = ("add_reversal", "view_reversal", "view_transaction")
CHECKER_PERMS = ("view_reversal", "approve_reversal")


def staff(email, *perms):
    user = get_user_model().objects.create_user(email, "pw", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def posted(account_id) -> int:
    return selectors.account_balance(account_id=account_id).posted.amount


@pytest.fixture
def mistake():
    """25.00 EUR sent from Alice's wallet to Bob's by mistake (Alice had 100.00)."""
    alice, bob = open_wallet_account(funded=10_000), open_wallet_account()
    txn = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(2_500, "EUR"),
        idempotency_key=f"mistake-{uuid.uuid4()}",
    )
    return alice, bob, txn.transaction_id


@pytest.fixture
def maker():
    return staff("maker@finstack.test", *MAKER_PERMS)


@pytest.fixture
def checker():
    return staff("checker@finstack.test", *CHECKER_PERMS)


def admin_action(client, action, reversal_id):
    response = client.post(
        "/admin/ledger/reversal/",
        {"action": action, "_selected_action": [reversal_id]},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def mirrored(entries):
    return sorted((a, "C" if d == "D" else "D", m) for a, d, m in entries)


# --- through the admin -------------------------------------------------------------------


def test_propose_then_approve_in_the_admin_posts_the_mirror_once(
    client, otp_login, mistake, maker, checker, ledger_state
):
    alice, bob, txn = mistake
    # Even a maker who may approve others' reversals cannot approve their own.
    maker.user_permissions.add(Permission.objects.get(codename="approve_reversal"))
    otp_login(client, maker)
    form = client.get(f"/admin/ledger/reversal/add/?transaction={txn}")
    assert form.status_code == 200
    response = client.post(
        "/admin/ledger/reversal/add/",
        {"transaction": txn, "reason": "sent to the wrong wallet, ticket 12"},
    )
    assert response.status_code == 302
    proposal = Reversal.objects.get()
    assert (proposal.transaction_id, proposal.status, proposal.proposed_by) == (
        txn,
        "proposed",
        maker,
    )
    assert (posted(alice), posted(bob)) == (7_500, 2_500)  # nothing moves on a proposal
    assert LogEntry.objects.filter(
        object_id=str(proposal.pk), action_flag=ADDITION, user=maker
    ).exists()
    page = client.get(f"/admin/ledger/reversal/{proposal.pk}/change/").content.decode()
    alice_code = selectors.account_get(account_id=alice).code
    bob_code = selectors.account_get(account_id=bob).code
    assert f"<div>credit {alice_code} 25.00 EUR</div>" in page  # what the checker will post
    assert f"<div>debit {bob_code} 25.00 EUR</div>" in page

    before = ledger_state()
    page = admin_action(client, "approve", proposal.pk)  # the maker cannot check their own
    assert "must be approved or rejected by someone other than who proposed it" in page
    assert ledger_state() == before
    assert Reversal.objects.get().status == "proposed"

    otp_login(client, checker)
    page = admin_action(client, "approve", proposal.pk)
    assert "posted as" in page
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("posted", checker)
    assert (posted(alice), posted(bob)) == (10_000, 0)
    reversal = selectors.transaction_get(transaction_id=proposal.reversal_transaction_id)
    original = selectors.transaction_get(transaction_id=txn)
    assert (reversal.kind, reversal.reverses_id, original.reversed_by_id) == (
        "reversal",
        txn,
        reversal.id,
    )
    assert sorted(reversal.entries) == mirrored(original.entries)
    assert reversal.description == "sent to the wrong wallet, ticket 12"
    assert LogEntry.objects.filter(
        object_id=str(proposal.pk), action_flag=CHANGE, user=checker
    ).exists()
    event = OutboxEvent.objects.get(type="ledger.transaction_reversed")
    assert event.payload["transaction_id"] == str(txn)
    assert event.payload["reversal_transaction_id"] == str(reversal.id)
    assert sorted(event.payload["account_ids"]) == sorted([str(alice), str(bob)])
    assert (event.payload["proposed_by_id"], event.payload["approved_by_id"]) == (
        maker.pk,
        checker.pk,
    )

    before = ledger_state()
    page = admin_action(client, "approve", proposal.pk)  # a second click posts nothing more
    assert "The reversal is already decided." in page
    assert ledger_state() == before
    assert Transaction.objects.filter(reverses_id=txn).count() == 1


def test_reject_in_the_admin_posts_nothing(
    client, otp_login, mistake, maker, checker, ledger_state
):
    alice, bob, txn = mistake
    proposal = services.reversal_propose(transaction_id=txn, reason="dup", proposed_by_id=maker.pk)
    before = ledger_state()

    viewer = staff("viewer@finstack.test", "view_reversal")
    otp_login(client, viewer)  # may look, may not decide: the actions are not offered
    assert 'value="approve"' not in client.get("/admin/ledger/reversal/").content.decode()
    client.post("/admin/ledger/reversal/", {"action": "approve", "_selected_action": [proposal]})
    assert Reversal.objects.get(pk=proposal).status == "proposed"

    otp_login(client, checker)
    assert "rejected." in admin_action(client, "reject", proposal)
    assert Reversal.objects.get(pk=proposal).status == "rejected"
    assert ledger_state() == before
    assert (posted(alice), posted(bob)) == (7_500, 2_500)
    assert LogEntry.objects.filter(object_id=str(proposal), action_flag=CHANGE).exists()
    # A rejected proposal does not block a new one.
    services.reversal_propose(transaction_id=txn, reason="after all", proposed_by_id=maker.pk)


def test_admin_refuses_to_propose_what_cannot_be_reversed(
    client, otp_login, mistake, maker, checker
):
    alice, bob, txn = mistake
    first = services.reversal_propose(transaction_id=txn, reason="dup", proposed_by_id=maker.pk)
    otp_login(client, maker)

    response = client.post("/admin/ledger/reversal/add/", {"transaction": txn, "reason": "again"})
    assert response.status_code == 200
    assert "already proposed and awaits a decision" in response.content.decode()

    services.reversal_approve(reversal_id=first, approver_id=checker.pk)
    reversal_txn = Reversal.objects.get(pk=first).reversal_transaction_id
    response = client.post("/admin/ledger/reversal/add/", {"transaction": txn, "reason": "x"})
    assert "The transaction is already reversed." in response.content.decode()
    response = client.post(
        "/admin/ledger/reversal/add/", {"transaction": reversal_txn, "reason": "undo the undo"}
    )
    assert "This transaction is itself a reversal" in response.content.decode()
    response = client.post("/admin/ledger/reversal/add/", {"transaction": txn, "reason": "  "})
    assert "This field is required." in response.content.decode()
    assert Reversal.objects.count() == 1
    assert (posted(alice), posted(bob)) == (10_000, 0)


def test_transaction_page_links_to_proposing_a_reversal(client, otp_login, mistake, maker):
    alice, bob, txn = mistake
    otp_login(client, maker)
    page = client.get(f"/admin/ledger/transaction/{txn}/change/").content.decode()
    assert f"/admin/ledger/reversal/add/?transaction={txn}" in page
    assert "Propose reversal" in page
    proposal = services.reversal_propose(transaction_id=txn, reason="dup", proposed_by_id=maker.pk)
    page = client.get(f"/admin/ledger/transaction/{txn}/change/").content.decode()
    assert f"/admin/ledger/reversal/{proposal}/change/" in page
    assert "Propose reversal" not in page


def test_a_reversal_that_would_overdraw_is_refused_and_stays_proposed(
    client, otp_login, mistake, maker, checker, ledger_state
):
    alice, bob, txn = mistake
    carol = open_wallet_account()
    services.transfer_post(  # Bob already spent most of it
        debit_account_id=bob,
        credit_account_id=carol,
        amount=Money(2_000, "EUR"),
        idempotency_key="bob-spends",
    )
    proposal = services.reversal_propose(transaction_id=txn, reason="dup", proposed_by_id=maker.pk)
    before = ledger_state()

    otp_login(client, checker)
    page = admin_action(client, "approve", proposal)
    assert "The ledger refused the reversal" in page
    assert "Nothing was posted; the proposal stays open." in page
    assert ledger_state() == before
    assert Reversal.objects.get(pk=proposal).status == "proposed"
    assert (posted(alice), posted(bob), posted(carol)) == (7_500, 500, 2_000)

    with pytest.raises(services.ReversalRefused) as refused:
        services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)
    assert (refused.value.code, refused.value.http_status) == ("reversal_refused", 409)
    assert refused.value.details["reason"] == "insufficient_funds"
    assert ledger_state() == before
    assert Reversal.objects.get(pk=proposal).status == "proposed"

    services.transfer_post(  # once the money is back the same proposal can be approved
        debit_account_id=carol,
        credit_account_id=bob,
        amount=Money(2_000, "EUR"),
        idempotency_key="carol-returns",
    )
    services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)
    assert (posted(alice), posted(bob)) == (10_000, 0)


# --- the services' refusals and the database's rules ---------------------------------------


def test_refusals_have_stable_codes(mistake, maker, checker):
    alice, bob, txn = mistake
    cases = [
        (uuid.uuid4(), "x", "transaction_not_found", 404),
        (txn, "   ", "reason_required", 400),
    ]
    for transaction_id, reason, code, status in cases:
        with pytest.raises(services.LedgerError) as error:
            services.reversal_propose(
                transaction_id=transaction_id, reason=reason, proposed_by_id=maker.pk
            )
        assert (error.value.code, error.value.http_status) == (code, status)

    proposal = services.reversal_propose(transaction_id=txn, reason="x", proposed_by_id=maker.pk)
    with pytest.raises(services.ReversalPending) as error:
        services.reversal_propose(transaction_id=txn, reason="y", proposed_by_id=checker.pk)
    assert (error.value.code, error.value.http_status) == ("reversal_pending", 409)
    with pytest.raises(services.SameApprover) as error:
        services.reversal_reject(reversal_id=proposal, rejected_by_id=maker.pk)
    assert (error.value.code, error.value.http_status) == ("same_approver", 403)
    with pytest.raises(services.ReversalNotFound):
        services.reversal_approve(reversal_id=uuid.uuid4(), approver_id=checker.pk)

    services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)
    reversal_txn = Reversal.objects.get(pk=proposal).reversal_transaction_id
    with pytest.raises(services.AlreadyReversed) as error:
        services.reversal_propose(transaction_id=txn, reason="y", proposed_by_id=maker.pk)
    assert (error.value.code, error.value.http_status) == ("already_reversed", 409)
    with pytest.raises(services.ReversalOfReversal) as error:
        services.reversal_propose(transaction_id=reversal_txn, reason="y", proposed_by_id=maker.pk)
    assert (error.value.code, error.value.http_status) == ("transaction_is_reversal", 409)
    with pytest.raises(services.ReversalNotProposed) as error:
        services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)
    assert (error.value.code, error.value.http_status) == ("reversal_not_proposed", 409)


def test_a_transaction_reversed_outside_maker_checker_cannot_be_proposed(mistake, maker):
    alice, bob, txn = mistake
    services.transaction_reverse(transaction_id=txn, idempotency_key="direct", reason="ops")
    with pytest.raises(services.AlreadyReversed):
        services.reversal_propose(transaction_id=txn, reason="x", proposed_by_id=maker.pk)
    assert not Reversal.objects.exists()


def test_the_database_keeps_one_open_or_posted_reversal_and_four_eyes(mistake, maker, checker):
    alice, bob, txn = mistake
    proposal = services.reversal_propose(transaction_id=txn, reason="x", proposed_by_id=maker.pk)
    with pytest.raises(IntegrityError), transaction.atomic():  # bypassing the service's check
        Reversal.objects.bulk_create(
            [Reversal(transaction_id=txn, reason="again", proposed_by=checker)]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Reversal.objects.filter(pk=proposal).update(
            status="rejected", decided_by=maker, decided_at=Reversal.objects.get().proposed_at
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Reversal.objects.bulk_create([Reversal(transaction_id=txn, reason=" ", proposed_by=maker)])
    with pytest.raises(IntegrityError), transaction.atomic():  # posted without its posting
        Reversal.objects.filter(pk=proposal).update(status="posted")
    assert Reversal.objects.get().status == "proposed"


# --- through the command -------------------------------------------------------------------


def test_command_proposes_then_another_approves(capsys, mistake, maker, checker, ledger_state):
    alice, bob, txn = mistake
    before = ledger_state()
    call_command("ledger_reverse", str(txn), reason="duplicate, ticket 81", by=maker.email)
    out = capsys.readouterr().out
    proposal = Reversal.objects.get()
    assert f"proposed reversal {proposal.pk}" in out
    assert f"--approve {proposal.pk}" in out
    assert proposal.status == "proposed"
    assert ledger_state() == before

    with pytest.raises(CommandError, match="ledger.approve_reversal"):
        call_command("ledger_reverse", approve=str(proposal.pk), by=maker.email)
    maker.user_permissions.add(Permission.objects.get(codename="approve_reversal"))
    with pytest.raises(CommandError, match="same_approver"):
        call_command("ledger_reverse", approve=str(proposal.pk), by=maker.email)
    assert ledger_state() == before
    assert Reversal.objects.get().status == "proposed"

    call_command("ledger_reverse", approve=str(proposal.pk), by=checker.email)
    out = capsys.readouterr().out
    proposal.refresh_from_db()
    assert proposal.status == "posted"
    assert f"posted {proposal.reversal_transaction_id}" in out
    assert (posted(alice), posted(bob)) == (10_000, 0)
    entries = Entry.objects.filter(transaction_id=proposal.reversal_transaction_id)
    assert sorted((e.account_id, e.direction, e.amount) for e in entries) == sorted(
        [(alice, "C", 2_500), (bob, "D", 2_500)]
    )
    assert Transaction.objects.get(pk=proposal.reversal_transaction_id).reverses_id == txn

    after = ledger_state()
    with pytest.raises(CommandError, match="reversal_not_proposed"):
        call_command("ledger_reverse", approve=str(proposal.pk), by=checker.email)
    assert ledger_state() == after


def test_command_proposes_and_approves_at_once(capsys, mistake, maker, checker):
    alice, bob, txn = mistake
    call_command("ledger_reverse", str(txn), reason="dup", by=maker.email, approve_by=checker.email)
    proposal = Reversal.objects.get()
    assert (proposal.status, proposal.proposed_by, proposal.decided_by) == (
        "posted",
        maker,
        checker,
    )
    assert (posted(alice), posted(bob)) == (10_000, 0)
    assert Transaction.objects.filter(reverses_id=txn).count() == 1


def test_command_same_person_cannot_approve_and_the_proposal_stays(mistake, maker, ledger_state):
    alice, bob, txn = mistake
    maker.user_permissions.add(Permission.objects.get(codename="approve_reversal"))
    before = ledger_state()
    with pytest.raises(CommandError, match="same_approver.*still proposed"):
        call_command(
            "ledger_reverse", str(txn), reason="dup", by=maker.email, approve_by=maker.email
        )
    assert Reversal.objects.get().status == "proposed"
    assert ledger_state() == before


def test_command_dry_run_prints_the_legs_and_writes_nothing(
    capsys, mistake, maker, checker, ledger_state
):
    alice, bob, txn = mistake
    alice_code = selectors.account_get(account_id=alice).code
    bob_code = selectors.account_get(account_id=bob).code
    before = ledger_state()
    for extra in ({}, {"approve_by": checker.email}):
        call_command(
            "ledger_reverse", str(txn), reason="dup", by=maker.email, dry_run=True, **extra
        )
        out = capsys.readouterr().out
        assert f"credit  {alice_code}  25.00 EUR" in out
        assert f"debit   {bob_code}  25.00 EUR" in out
        assert "would" in out
        assert ledger_state() == before
        assert not Reversal.objects.exists()

    proposal = services.reversal_propose(transaction_id=txn, reason="dup", proposed_by_id=maker.pk)
    before = ledger_state()
    call_command("ledger_reverse", approve=str(proposal), by=checker.email, dry_run=True)
    assert f"credit  {alice_code}  25.00 EUR" in capsys.readouterr().out
    assert ledger_state() == before
    assert Reversal.objects.get().status == "proposed"


def test_command_refusals_exit_with_the_message(mistake, maker, checker, ledger_state):
    alice, bob, txn = mistake
    outsider = get_user_model().objects.create_user("customer@finstack.test", "pw")
    a_reversal = services.transaction_reverse(
        transaction_id=open_wallet_account_and_fund(), idempotency_key="r-1", reason="x"
    ).transaction_id
    before = ledger_state()
    cases = [
        ((str(txn),), {"reason": "", "by": maker.email}, "reason_required"),
        ((str(uuid.uuid4()),), {"reason": "x", "by": maker.email}, "transaction_not_found"),
        ((str(a_reversal),), {"reason": "x", "by": maker.email}, "transaction_is_reversal"),
        ((str(txn),), {"reason": "x", "by": outsider.email}, "not an active staff member"),
        ((str(txn),), {"reason": "x", "by": checker.email}, "ledger.add_reversal"),
        ((), {"by": maker.email}, "Name a transaction"),
    ]
    for args, options, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("ledger_reverse", *args, **options)
    assert ledger_state() == before
    assert not Reversal.objects.exists()


def open_wallet_account_and_fund():
    """A funded wallet's opening transaction: something that can be reversed."""
    account = open_wallet_account(funded=100)
    return selectors.entries_page(account_id=account).items[0].transaction_id


def test_command_reversal_that_would_overdraw_is_refused(mistake, maker, checker, ledger_state):
    alice, bob, txn = mistake
    services.transfer_post(
        debit_account_id=bob,
        credit_account_id=open_wallet_account(),
        amount=Money(2_500, "EUR"),
        idempotency_key="bob-spends-all",
    )
    before = ledger_state()
    with pytest.raises(CommandError, match="reversal_refused.*still proposed"):
        call_command(
            "ledger_reverse", str(txn), reason="dup", by=maker.email, approve_by=checker.email
        )
    assert Reversal.objects.get().status == "proposed"
    assert ledger_state() == before


def test_command_reject(capsys, mistake, maker, checker, ledger_state):
    alice, bob, txn = mistake
    proposal = services.reversal_propose(transaction_id=txn, reason="dup", proposed_by_id=maker.pk)
    before = ledger_state()
    call_command("ledger_reverse", reject=str(proposal), by=checker.email)
    assert f"rejected reversal {proposal}" in capsys.readouterr().out
    assert Reversal.objects.get().status == "rejected"
    assert ledger_state() == before


# --- races ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_proposals_and_approvals_post_once(mistake, maker, checker):
    alice, bob, txn = mistake
    proposers = [maker] + [staff(f"maker{n}@finstack.test", *MAKER_PERMS) for n in range(3)]

    def propose(n):
        return services.reversal_propose(
            transaction_id=txn, reason=f"dup {n}", proposed_by_id=proposers[n].pk
        )

    results, failures = run_threads(4, propose)
    assert len([r for r in results if r]) == 1
    assert sorted(type(f).__name__ for f in failures) == ["ReversalPending"] * 3
    proposal = next(r for r in results if r)

    def approve(n):
        return services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)

    results, failures = run_threads(4, approve)
    assert len([r for r in results if r]) == 1
    assert sorted(type(f).__name__ for f in failures) == ["ReversalNotProposed"] * 3
    assert Transaction.objects.filter(reverses_id=txn).count() == 1
    assert (posted(alice), posted(bob)) == (10_000, 0)
