"""Ledger refusals. The SQL functions raise them by code (SQLSTATE FS000); see services."""

from apps.core.errors import DomainError


class LedgerError(DomainError):
    pass


class InsufficientFunds(LedgerError):
    code, message = "insufficient_funds", "The account does not have enough available funds."


class AccountFrozen(LedgerError):
    code, message = "account_frozen", "The account is frozen: it can receive but not send."


class AccountClosed(LedgerError):
    code, message = "account_closed", "The account is closed."


class AccountNotFound(LedgerError):
    code, http_status, message = "account_not_found", 404, "No such ledger account."


class CurrencyMismatch(LedgerError):
    code, message = "currency_mismatch", "The amount's currency differs from the account's."


class CurrencyNotSupported(LedgerError):
    code, message = "currency_not_supported", "This currency is not supported."


class BalanceRuleViolated(LedgerError):
    code, message = "balance_rule_violated", "The posting would break the account's balance rule."


class BalanceCeilingExceeded(LedgerError):
    code, message = (
        "balance_ceiling_exceeded",
        "The posting would take the balance over its ceiling.",
    )


class InvalidAmount(LedgerError):
    code, message = "invalid_amount", "The amount is not valid for this operation."


class UnbalancedTransaction(LedgerError):
    code, message = "unbalanced_transaction", "Debits and credits of a transaction must be equal."


class IdempotencyKeyReused(LedgerError):
    code, message = "idempotency_key_reused", "This key was already used for a different request."


class AlreadyReversed(LedgerError):
    code, http_status, message = "already_reversed", 409, "The transaction is already reversed."


class TransactionNotFound(LedgerError):
    code, http_status, message = "transaction_not_found", 404, "No such ledger transaction."


class HoldNotFound(LedgerError):
    code, http_status, message = "hold_not_found", 404, "No such hold."


class HoldNotPending(LedgerError):
    code, http_status, message = "hold_not_pending", 409, "The hold is already settled."


class HoldExpired(LedgerError):
    code, http_status, message = "hold_expired", 409, "The hold has expired."


class LedgerImmutable(LedgerError):
    code, http_status, message = "ledger_immutable", 409, "Ledger history cannot be changed."


class SameApprover(LedgerError):
    code, http_status, message = (
        "same_approver",
        403,
        "An adjustment must be approved by someone other than who proposed it.",
    )


class AdjustmentNotProposed(LedgerError):
    code, http_status, message = "adjustment_not_proposed", 409, "The adjustment is decided."


class ReasonRequired(LedgerError):
    code, http_status, message = "reason_required", 400, "Say why the transaction is reversed."


class ReversalNotFound(LedgerError):
    code, http_status, message = "reversal_not_found", 404, "No such reversal proposal."


class ReversalPending(LedgerError):
    code, http_status, message = (
        "reversal_pending",
        409,
        "A reversal of this transaction is already proposed and awaits a decision.",
    )


class ReversalOfReversal(LedgerError):
    code, http_status, message = (
        "transaction_is_reversal",
        409,
        "This transaction is itself a reversal; post a new correction instead.",
    )


class ReversalNotProposed(LedgerError):
    code, http_status, message = "reversal_not_proposed", 409, "The reversal is already decided."


class ReversalRefused(LedgerError):
    """The ledger refused the mirror posting (the money already left a wallet, an account is
    frozen or closed, a ceiling): `details["reason"]` is the ledger's own code."""

    code, http_status, message = (
        "reversal_refused",
        409,
        "The ledger refused the reversal; nothing was posted and the proposal stays open.",
    )


BY_CODE: dict[str, type[LedgerError]] = {cls.code: cls for cls in LedgerError.__subclasses__()}
