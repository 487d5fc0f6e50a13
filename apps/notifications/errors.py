from apps.core.errors import DomainError, NotFound


class PreferenceLocked(DomainError):
    code, http_status = "preference_locked", 422
    message = "Security messages cannot be switched off."


class NotificationNotFound(NotFound):
    code, message = "notification_not_found", "No such notification."


class DeviceNotFound(NotFound):
    code, message = "device_not_found", "No such device."
