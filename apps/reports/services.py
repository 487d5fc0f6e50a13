"""Public writes of apps.reports: other apps use only services, selectors and events."""
