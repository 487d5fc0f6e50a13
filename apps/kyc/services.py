"""Public writes of apps.kyc: other apps use only services, selectors and events."""
