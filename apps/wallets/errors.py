from apps.core.errors import Conflict, DomainError, NotFound


class WalletNotFound(NotFound):
    code, message = "wallet_not_found", "No such wallet."


class RecipientNotFound(NotFound):
    code, message = "recipient_not_found", "No wallet found for that recipient."


class WalletFrozen(DomainError):
    code, message = "wallet_frozen", "The wallet is frozen: it can receive but not send."


class WalletClosed(DomainError):
    code, message = "wallet_closed", "The wallet is closed."


class CurrencyMismatch(DomainError):
    code, message = "currency_mismatch", "The wallets and the amount must be in one currency."


class SelfTransfer(DomainError):
    code, message = "self_transfer", "A wallet cannot send money to itself."


class NotAllowedToSend(DomainError):
    code, http_status, message = "not_allowed_to_send", 403, "You may not send from this wallet."


class LimitExceeded(DomainError):
    code, message = "limit_exceeded", "The transfer exceeds a limit of your verification tier."


class WalletExists(DomainError):
    code, http_status, message = "wallet_exists", 409, "You already have a wallet in this currency."


class RiskDenied(DomainError):
    code, http_status = "risk_denied", 422
    message = "This transfer cannot be made. Contact support if you think this is wrong."


class DeciderIsParty(DomainError):
    code, http_status = "decider_is_party", 403
    message = "A party to the transfer cannot decide its review."


class ReviewAlreadyDecided(Conflict):
    code, message = "review_already_decided", "The review has already been decided."
