from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.views import jwks
from apps.core import health
from apps.core.api.views import not_found
from finstack import devmail, metrics, webapp

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path(".well-known/jwks.json", jwks, name="jwks"),
    path("admin/", admin.site.urls),
    path("dev/mail/", devmail.mailbox, name="devmail"),  # 404 unless DEBUG (finstack/devmail.py)
    # Customers' sign-up, login, tokens, 2FA and sessions (allauth headless, JSON).
    path("_allauth/", include("allauth.headless.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("finstack.api_urls")),
    # The customer web app: its client-side routes all load one page (finstack/webapp.py).
    path("app/", webapp.index, name="webapp"),
    re_path(r"^app/(?!assets/)(?P<route>.+)$", webapp.index),
    re_path(r"^api/", not_found),
]

handler500 = "apps.core.api.views.server_error"
