"""Public writes of apps.notifications: other apps use only services, selectors and events."""
