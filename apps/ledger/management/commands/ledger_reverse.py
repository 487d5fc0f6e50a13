"""Reverse a ledger transaction with maker-checker, from the command line.

    manage.py ledger_reverse TX_ID --reason "duplicate, ticket 81" --by maker@example.com
        proposes; prints the proposal id for a second staff member to decide
    manage.py ledger_reverse --approve PROPOSAL_ID --by checker@example.com
    manage.py ledger_reverse --reject PROPOSAL_ID --by checker@example.com
    manage.py ledger_reverse TX_ID --reason "..." --by maker@... --approve-by checker@...
        proposes and approves at once (two different people)
Add --dry-run to any of them: everything is checked and the legs that would be posted are
printed, then it is all undone.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from uuid import UUID

from auditlog.context import set_actor
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts import selectors as accounts_selectors
from apps.core.commands import maybe_dry_run
from apps.core.errors import DomainError
from apps.ledger import selectors, services
from apps.ledger.models import Reversal


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        raise CommandError(f"{error.code}: {error.message}") from None


class Command(BaseCommand):
    help = (
        "Reverse a ledger transaction (maker-checker). `TX_ID --reason R --by MAKER` proposes "
        "and prints the proposal id; `--approve ID --by CHECKER` or `--reject ID --by CHECKER` "
        "decides it; `--approve-by CHECKER` with a proposal approves it at once. The checker "
        "must be another staff member with ledger.approve_reversal; the maker needs "
        "ledger.add_reversal. --dry-run checks everything, prints the legs that would be "
        "posted and writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "transaction_id", nargs="?", type=UUID, help="the ledger transaction to reverse"
        )
        parser.add_argument("--reason", default="", help="why (required to propose)")
        parser.add_argument(
            "--by", required=True, help="e-mail of the staff member acting (maker or checker)"
        )
        parser.add_argument(
            "--approve-by", default=None, help="e-mail of a second staff member who approves"
        )
        decide = parser.add_mutually_exclusive_group()
        decide.add_argument("--approve", type=UUID, metavar="PROPOSAL_ID", default=None)
        decide.add_argument("--reject", type=UUID, metavar="PROPOSAL_ID", default=None)
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, print the legs, write nothing"
        )

    def handle(
        self,
        *args: object,
        transaction_id: UUID | None,
        reason: str,
        by: str,
        approve_by: str | None,
        approve: UUID | None,
        reject: UUID | None,
        dry_run: bool = False,
        **options: object,
    ) -> None:
        decision = approve or reject
        if decision is not None and (transaction_id or approve_by or reason):
            raise CommandError("--approve/--reject take a proposal id and --by only.")
        if decision is None and transaction_id is None:
            raise CommandError("Name a transaction to reverse, or --approve/--reject a proposal.")
        # A dry run is one transaction rolled back; a real run commits the proposal on its
        # own, so a refused approval leaves it open for another try.
        with maybe_dry_run(True) if dry_run else nullcontext(), _refusals():
            if decision is not None:
                self._decide(decision, by, approve=approve is not None, dry_run=dry_run)
            elif transaction_id is not None:
                self._propose(transaction_id, reason, by, approve_by, dry_run)

    def _propose(
        self, transaction_id: UUID, reason: str, by: str, approve_by: str | None, dry_run: bool
    ) -> None:
        maker = _staff(by, "ledger.add_reversal")
        checker = _staff(approve_by, "ledger.approve_reversal") if approve_by else None
        with set_actor(maker):
            proposal = services.reversal_propose(
                transaction_id=transaction_id, reason=reason, proposed_by_id=maker.pk
            )
        if checker is not None:
            if not dry_run:
                self.stdout.write(f"proposed reversal {proposal}")
            self._approve(proposal, transaction_id, checker, dry_run)
            return
        if dry_run:
            self.stdout.write(f"would propose the reversal of {transaction_id}; on approval:")
            self._legs(transaction_id)
            return
        self.stdout.write(self.style.SUCCESS(f"proposed reversal {proposal}"))
        self.stdout.write("on approval it posts:")
        self._legs(transaction_id)
        self.stdout.write(
            "another staff member approves it in the admin or with: manage.py ledger_reverse"
            f" --approve {proposal} --by <checker>"
        )

    def _decide(self, proposal: UUID, by: str, *, approve: bool, dry_run: bool) -> None:
        checker = _staff(by, "ledger.approve_reversal")
        transaction_id = (
            Reversal.objects.filter(pk=proposal).values_list("transaction_id", flat=True).first()
        )
        if transaction_id is None:
            raise CommandError(f"reversal_not_found: no reversal proposal {proposal}.")
        if approve:
            self._approve(proposal, transaction_id, checker, dry_run)
            return
        with set_actor(checker):
            services.reversal_reject(reversal_id=proposal, rejected_by_id=checker.pk)
        if dry_run:
            self.stdout.write(f"would reject reversal {proposal}")
            return
        self.stdout.write(self.style.SUCCESS(f"rejected reversal {proposal}"))

    def _approve(self, proposal: UUID, transaction_id: UUID, checker: Any, dry_run: bool) -> None:
        try:
            with set_actor(checker):
                posting = services.reversal_approve(reversal_id=proposal, approver_id=checker.pk)
        except DomainError as error:
            still = "" if dry_run else f" (reversal {proposal} is still proposed)"
            raise CommandError(f"{error.code}: {error.message}{still}") from None
        if dry_run:
            self.stdout.write(f"would approve the reversal of {transaction_id} and post:")
            self._legs(transaction_id)
            return
        self.stdout.write(
            self.style.SUCCESS(f"approved reversal {proposal}: posted {posting.transaction_id}")
        )
        self._legs(transaction_id)

    def _legs(self, transaction_id: UUID) -> None:
        for leg in services.reversal_legs(transaction_id=transaction_id):
            code = selectors.account_get(account_id=leg.account_id).code
            direction = "debit" if leg.direction == "D" else "credit"
            self.stdout.write(f"  {direction:<6}  {code}  {leg.amount}")


def _staff(email: str, permission: str) -> Any:
    ref = accounts_selectors.user_find_by_email(email=email)
    user = get_user_model().objects.filter(pk=ref.id).first() if ref else None
    if user is None or not (user.is_active and user.is_staff and user.has_perm(permission)):
        raise CommandError(f"{email} is not an active staff member with {permission}.")
    return user
