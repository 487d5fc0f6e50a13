"""The customer web app (web/, built by Vite into WEBAPP_DIST) served at /app/ by this process.

Its hashed assets come from WhiteNoise under /app/assets/ (cached for good); every other /app/
path answers index.html, never cached, so the client-side router owns the route and a new
build is picked up on the next load. The page sets the CSRF cookie the app's unsafe requests
echo in the X-CSRFToken header.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe
from whitenoise.middleware import WhiteNoiseMiddleware as BaseWhiteNoiseMiddleware

ASSETS_PREFIX = "app/assets/"
NOT_BUILT = (
    "The customer app is not built. `make run` builds it; by hand: "
    "cd web && npm ci && npm run build\n"
)


class WhiteNoiseMiddleware(BaseWhiteNoiseMiddleware):
    """Static files as usual, plus the web app's assets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_files(str(settings.WEBAPP_DIST / "assets"), prefix=ASSETS_PREFIX)

    def immutable_file_test(self, path: str, url: str) -> bool:
        # Vite puts a content hash in every asset's name.
        return url.startswith(f"/{ASSETS_PREFIX}") or super().immutable_file_test(path, url)


@require_safe
@ensure_csrf_cookie
def index(request: HttpRequest, route: str = "") -> HttpResponse:
    try:
        html = (settings.WEBAPP_DIST / "index.html").read_bytes()
    except FileNotFoundError:
        return HttpResponse(NOT_BUILT, status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    patch_cache_control(response, no_cache=True)
    return response
