from apps.core.errors import Conflict, DomainError, NotFound


class FundingSourceNotFound(NotFound):
    code, message = "funding_source_not_found", "No such funding source."


class FundingSourceExists(Conflict):
    code, message = "funding_source_exists", "This bank account is already linked."


class FundingSourceInUse(Conflict):
    code, message = "funding_source_in_use", "A payment in progress uses this bank account."


class PaymentNotFound(NotFound):
    code, message = "payment_not_found", "No such payment."


class RiskDenied(DomainError):
    code, http_status = "risk_denied", 422
    message = "This payment cannot be made. Contact support if you think this is wrong."


class DeciderIsParty(DomainError):
    code, http_status = "decider_is_party", 403
    message = "The payment's own user cannot decide its review."


class WithdrawalsNotAllowed(DomainError):
    code, http_status = "withdrawals_not_allowed", 422
    message = "Verify your identity to withdraw money."


class IllegalTransition(Conflict):
    code, message = "illegal_transition", "The payment cannot move to that state from here."


class InvalidIban(DomainError):
    code, http_status, message = "invalid_iban", 400, "The IBAN is not valid."


class WebhookRejected(DomainError):
    code, http_status, message = "webhook_rejected", 400, "The webhook could not be verified."


class ProviderUnavailable(DomainError):
    code, http_status, message = "provider_unavailable", 503, "The bank is unavailable; retry."


class FourEyes(DomainError):
    code, http_status = "four_eyes", 403
    message = "Someone other than the proposer must approve this."


class PaymentNotCancelable(Conflict):
    code = "payment_not_cancelable"
    message = "The payment has already gone to the bank and can no longer be canceled."


class ResolutionNotApplicable(Conflict):
    code = "resolution_not_applicable"
    message = "This resolution does not fit the payment's situation."


class BankNotConfirmed(Conflict):
    code = "bank_not_confirmed"
    message = "The bank does not report this payment as completed: nothing to book or return."
