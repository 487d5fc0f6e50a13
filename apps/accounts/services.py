"""Public writes of apps.accounts: other apps use only services, selectors and events."""
