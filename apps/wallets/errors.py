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


class NotWalletOwner(DomainError):
    code, http_status, message = "not_wallet_owner", 403, "Only the wallet's owner can do this."


class WalletNotEmpty(Conflict):
    code, message = "wallet_not_empty", "Move the money out of the wallet before closing it."


class WalletHasOpenHolds(Conflict):
    code = "wallet_has_open_holds"
    message = "The wallet has money reserved or on its way; close it once that is settled."


class WalletNotShared(Conflict):
    code, message = "wallet_not_shared", "Only a shared wallet has members."


class AlreadyMember(Conflict):
    code, message = "already_member", "That person is already on this wallet."


class InvitationNotFound(NotFound):
    code, message = "invitation_not_found", "No such invitation."


class InvitationNotPending(Conflict):
    code, message = "invitation_not_pending", "The invitation has already been answered."


class MemberNotFound(NotFound):
    code, message = "member_not_found", "No such member of this wallet."


class MoneyRequestNotFound(NotFound):
    code, message = "money_request_not_found", "No such money request."


class MoneyRequestNotPending(Conflict):
    code, message = "money_request_not_pending", "The request has already been answered."


class SelfRequest(DomainError):
    code, message = "self_request", "You cannot request money from yourself."
