"""Events apps.payments publishes (notifications tell the customer)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class PaymentSucceeded(Event):
    name = "payments.payment_succeeded"
    payment_id: str
    user_id: int
    direction: str
    amount: int
    currency: str


@dataclass(frozen=True)
class PaymentFailed(Event):
    name = "payments.payment_failed"
    payment_id: str
    user_id: int
    direction: str
    amount: int
    currency: str
    reason: str  # customer-safe


@dataclass(frozen=True)
class PaymentInReview(Event):
    name = "payments.payment_in_review"
    payment_id: str
    user_id: int
    reasons: list
