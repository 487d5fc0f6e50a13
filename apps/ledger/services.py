"""Public writes of apps.ledger: other apps use only services, selectors and events."""
