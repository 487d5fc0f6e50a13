from apps.core.errors import Conflict, DomainError


class PhoneTaken(Conflict):
    code, message = "phone_taken", "This phone number belongs to another account."


class AccountNotEmpty(DomainError):
    code, http_status = "account_not_empty", 409
    message = "The account still holds money; withdraw or transfer it before closing."


class AccountClosed(DomainError):
    code, http_status, message = "account_closed", 409, "The account is already closed."


class TotpSetupNotStarted(DomainError):
    code, http_status = "totp_setup_not_started", 404
    message = "Start the set-up first: GET /_allauth/app/v1/account/authenticators/totp."


class AccountBusy(DomainError):
    code, http_status = "account_busy", 409
    message = "A payment is still in progress; close the account once it has finished."


class InvalidApiKeyTerms(DomainError):
    code, http_status = "invalid_api_key_terms", 400
    message = "The API key's scopes, namespace or rate are not valid."


class ApiKeyRevoked(Conflict):
    code, message = "api_key_revoked", "The API key is revoked."
