"""Public writes of apps.payments: other apps use only services, selectors and events."""
