"""Everything under /api/v1/: each app's api.urls joins here as it lands."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.kyc.api.urls")),
    path("", include("apps.ledger.api.urls")),
    path("", include("apps.wallets.api.urls")),
    path("", include("apps.payments.api.urls")),
    path("", include("apps.notifications.api.urls")),
    path("", include("apps.reports.api.urls")),
    path("", include("apps.webhooks.api.urls")),
]
