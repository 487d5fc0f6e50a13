"""The database itself refuses bad money data, even from raw SQL that bypasses the services."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.core.money import Money
from apps.ledger import services
from apps.ledger.models import Entry, Hold, Transaction
from apps.ledger.tests.factories import clearing, open_wallet_account

pytestmark = pytest.mark.django_db


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def posted():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    result = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(30, "EUR"),
        idempotency_key="raw-1",
    )
    return result.transaction_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount = amount + 1 WHERE transaction_id = %s",
        "DELETE FROM ledger_entry WHERE transaction_id = %s",
        "UPDATE ledger_transaction SET description = 'edited' WHERE id = %s",
        "DELETE FROM ledger_transaction WHERE id = %s",
    ],
)
def test_history_cannot_be_edited_or_deleted(posted, statement):
    with pytest.raises(DatabaseError, match="ledger_immutable"), transaction.atomic():
        sql(statement, [posted])
    assert Entry.objects.filter(transaction_id=posted).count() == 2
    assert Transaction.objects.get(pk=posted).description == ""


def test_orm_update_is_refused_too(posted):
    with pytest.raises(DatabaseError, match="ledger_immutable"), transaction.atomic():
        Entry.objects.filter(transaction_id=posted).update(amount=1)


@pytest.mark.django_db(transaction=True)
def test_unbalanced_transaction_cannot_be_committed_even_by_raw_sql():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()

    def write_unbalanced():
        with transaction.atomic():
            sql("""INSERT INTO ledger_transaction (id, idempotency_key, kind,
                     description, metadata, effective_at, created_at, created_by)
                   VALUES ('00000000-0000-0000-0000-000000000001', 'raw', 'raw', '', '{}',
                           now(), now(), '')""")
            for account, direction, amount in [(alice, "D", 10), (bob, "C", 9)]:
                sql(
                    """INSERT INTO ledger_entry (transaction_id, account_id, shard, seq,
                         direction, amount, currency, balance_after, posted_at, hash)
                       VALUES ('00000000-0000-0000-0000-000000000001', %s, 0, 99, %s, %s,
                               'EUR', 0, now(), '\\x00')""",
                    [account, direction, amount],
                )

    with pytest.raises(DatabaseError, match="unbalanced_transaction"):
        write_unbalanced()  # each statement is accepted; the commit is not
    assert not Transaction.objects.filter(idempotency_key="raw").exists()


@pytest.mark.django_db(transaction=True)
def test_transaction_without_entries_cannot_be_committed():
    with pytest.raises(DatabaseError, match="unbalanced_transaction"), transaction.atomic():
        sql("""INSERT INTO ledger_transaction (id, idempotency_key, kind,
                 description, metadata, effective_at, created_at, created_by)
               VALUES (gen_random_uuid(), 'empty', 'raw', '', '{}', now(), now(), '')""")
    assert not Transaction.objects.filter(idempotency_key="empty").exists()


@pytest.mark.django_db(transaction=True)
def test_entries_cannot_be_appended_to_a_committed_transaction():
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    txn = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(5, "EUR"),
        idempotency_key="sealed",
    ).transaction_id
    with pytest.raises(DatabaseError, match="ledger_immutable"), transaction.atomic():
        sql(
            """INSERT INTO ledger_entry (transaction_id, account_id, shard, seq, direction,
                 amount, currency, balance_after, posted_at, hash)
               VALUES (%s, %s, 0, 99, 'C', 1, 'EUR', 0, now(), '\\x00')""",
            [txn, bob],
        )
    assert Entry.objects.filter(transaction_id=txn).count() == 2


def test_a_transaction_is_reversed_at_most_once_by_constraint(posted):
    first = services.transaction_reverse(transaction_id=posted, idempotency_key="r1", reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(
            """INSERT INTO ledger_transaction (id, idempotency_key, kind,
                 description, metadata, effective_at, created_at, created_by, reverses_id)
               VALUES (gen_random_uuid(), 'r2', 'reversal', '', '{}', now(), now(), '',
                       %s)""",
            [posted],
        )
    assert list(Transaction.objects.filter(reverses_id=posted).values_list("pk", flat=True)) == [
        first.transaction_id
    ]


def test_idempotency_key_is_unique_in_the_database(posted):
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("""INSERT INTO ledger_transaction (id, idempotency_key, kind,
                 description, metadata, effective_at, created_at, created_by)
               VALUES (gen_random_uuid(), 'raw-1', 'raw', '', '{}', now(), now(), '')""")


def test_settled_hold_cannot_be_reopened_or_resized():
    alice = open_wallet_account(funded=100)
    hold = services.hold_create(
        debit_account_id=alice,
        credit_account_id=clearing(),
        amount=Money(40, "EUR"),
        idempotency_key="h-raw",
    ).hold_id
    with pytest.raises(DatabaseError, match="ledger_immutable"), transaction.atomic():
        Hold.objects.filter(pk=hold).update(amount=1)
    services.hold_void(hold_id=hold)
    with pytest.raises(DatabaseError, match="ledger_immutable"), transaction.atomic():
        Hold.objects.filter(pk=hold).update(status="pending")
    with pytest.raises(DatabaseError, match="ledger_immutable"), transaction.atomic():
        Hold.objects.filter(pk=hold).delete()
    assert Hold.objects.get(pk=hold).status == "voided"


def test_entry_amount_must_be_positive_in_the_database(posted):
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(
            """INSERT INTO ledger_entry (transaction_id, account_id, shard, seq, direction,
                 amount, currency, balance_after, posted_at, hash)
               SELECT transaction_id, account_id, shard, 999, direction, -5, currency, 0, now(),
                      hash FROM ledger_entry WHERE transaction_id = %s LIMIT 1""",
            [posted],
        )


@pytest.mark.django_db(transaction=True)
def test_verify_names_a_tampered_balance_and_a_broken_hash_chain():
    """Negative control: the integrity checks can fail."""
    alice, bob = open_wallet_account(funded=100), open_wallet_account()
    posted = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(30, "EUR"),
        idempotency_key="tamper",
    )
    assert services.verify().ok
    with transaction.atomic():
        sql(
            "UPDATE ledger_balance SET posted_credits = posted_credits + 1 WHERE account_id = %s",
            [bob],
        )
        sql("SET LOCAL session_replication_role = replica")  # what a superuser could do
        sql(
            "UPDATE ledger_entry SET amount = amount + 1 WHERE transaction_id = %s"
            " AND direction = 'D'",
            [posted.transaction_id],
        )
    result = services.verify()
    assert not result.ok
    checks = {b["check"] for b in result.breaks}
    assert {"stored_balance", "running_balance", "hash_chain", "transaction_balanced"} <= checks
    assert any(
        "first broken link at seq 2" in b["detail"]
        for b in result.breaks
        if b["check"] == "hash_chain"
    )
