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


BY_CODE: dict[str, type[LedgerError]] = {cls.code: cls for cls in LedgerError.__subclasses__()}
