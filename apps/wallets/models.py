import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.ids import uuid7


class WalletStatus(models.TextChoices):
    ACTIVE = "active"
    FROZEN = "frozen"  # receives, does not send
    CLOSED = "closed"


class Wallet(models.Model):
    """A user's money in one currency; its balance is the ledger account's, never stored here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    name = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=10, choices=WalletStatus.choices, default=WalletStatus.ACTIVE
    )
    is_default = models.BooleanField(default=False)
    is_shared = models.BooleanField(default=False)
    ledger_account_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="wallet_currency"
            ),
            # One personal wallet per currency; shared wallets come on top.
            models.UniqueConstraint(
                fields=["owner", "currency"],
                condition=Q(is_shared=False),
                name="wallet_one_personal_per_currency",
            ),
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="wallet_owner_idx")]

    def __str__(self) -> str:
        return f"{self.name or 'wallet'} {self.currency} ({self.id})"


class MemberRole(models.TextChoices):
    SPENDER = "spender"  # may send, within a daily limit
    VIEWER = "viewer"  # may only look


class WalletMember(models.Model):
    """Someone other than the owner on a shared wallet."""

    # The API's id for a member: not guessable, and not the user's id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.SPENDER)
    daily_limit = models.BigIntegerField(null=True, blank=True)  # minor units; None: tier only
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "user"], name="wallet_member_once"),
            models.CheckConstraint(
                condition=Q(daily_limit__isnull=True) | Q(daily_limit__gte=0),
                name="wallet_member_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.wallet_id} ({self.role})"


class WalletStatusChange(models.Model):
    """Why and by whom a wallet was frozen, unfrozen or closed (kept for compliance)."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.wallet_id}: {self.from_status} -> {self.to_status}"


class Transfer(models.Model):
    """A P2P transfer; the money moved in the ledger transaction it names."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    source_wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    destination_wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ledger_transaction_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="transfer_fee_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["requested_by", "created_at"], name="transfer_sender_idx"),
            models.Index(
                fields=["source_wallet", "requested_by", "created_at"], name="transfer_member_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.amount} {self.currency} ({self.id})"


class TransferReview(models.Model):
    """A transfer the risk rules sent to staff: its money is held on the sender's account
    (`hold_id`) until a decision posts it (`transfer`) or releases it."""

    class State(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DECLINED = "declined"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    source_wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    destination_wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The transfer's business key: a retry finds this review instead of holding twice.
    ledger_key = models.CharField(max_length=255, unique=True)
    hold_id = models.UUIDField(unique=True)
    reasons = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="transfer_review_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(state="approved", transfer__isnull=False)
                | (~Q(state="approved") & Q(transfer__isnull=True)),
                name="transfer_review_approved_has_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer review {self.amount} {self.currency} ({self.state})"


class SpendingGate(models.Model):
    """One row per user and currency, locked first by every outgoing transfer: limits span all
    of a user's wallets, and row locks on each wallet alone let concurrent transfers exceed
    them. It also carries the running totals the daily and monthly limits read (O(1))."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    day = models.DateField(null=True)
    day_total = models.BigIntegerField(default=0)
    month = models.DateField(null=True)  # first day of the month
    month_total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "currency"], name="spending_gate_once")
        ]

    def __str__(self) -> str:
        return f"gate {self.user_id} {self.currency}"


class WalletInvitation(models.Model):
    """An owner's invitation to a shared wallet, addressed to an e-mail or verified phone.

    `invitee` is whoever had that contact when invited, or None: the answer to the owner is
    the same either way, so an invitation never tells whether someone is a customer."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.CharField(max_length=254)  # e-mail (lower case) or +E.164
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.SPENDER)
    daily_limit = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "contact"],
                condition=Q(state="pending"),
                name="wallet_invitation_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(daily_limit__isnull=True) | Q(daily_limit__gte=0),
                name="wallet_invitation_limit",
            ),
        ]
        indexes = [models.Index(fields=["invitee", "state"], name="wallet_invitation_invitee")]

    def __str__(self) -> str:
        return f"invitation to {self.wallet_id} ({self.state})"


class WalletMemberChange(models.Model):
    """Who joined, changed or left a shared wallet, by whom and why (staff give a reason)."""

    class Action(models.TextChoices):
        JOINED = "joined"
        CHANGED = "changed"
        REMOVED = "removed"
        LEFT = "left"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="member_changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    role = models.CharField(max_length=10, blank=True)  # after the change ("" once gone)
    daily_limit = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} on {self.wallet_id}"


class MoneyRequest(models.Model):
    """A customer asks another (by e-mail or verified phone) for an amount, paid into
    `destination_wallet`. Accepting makes an ordinary P2P transfer whose business key comes
    from this request, so it pays once however often it is accepted. `payer` is None when no
    customer has the contact: the requester is answered the same either way."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"  # paid, or held for the transfer's risk review
        DECLINED = "declined"
        CANCELLED = "cancelled"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    destination_wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    contact = models.CharField(max_length=254)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    expires_at = models.DateTimeField()
    # The transfer's id, or its review's while held (the transfer API's `id`).
    transfer_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="money_request_amount"),
            models.CheckConstraint(
                condition=Q(state="accepted", transfer_id__isnull=False)
                | (~Q(state="accepted") & Q(transfer_id__isnull=True)),
                name="money_request_accepted_has_transfer",
            ),
        ]
        indexes = [
            models.Index(fields=["payer", "state"], name="money_request_payer"),
            models.Index(fields=["requester", "created_at"], name="money_request_requester"),
            models.Index(fields=["state", "expires_at"], name="money_request_due"),
        ]

    def __str__(self) -> str:
        return f"request {self.amount} {self.currency} ({self.state})"
