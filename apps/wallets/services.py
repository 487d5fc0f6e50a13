"""Public writes of apps.wallets: other apps use only services, selectors and events."""
