"""Plain views outside the JSON API."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from apps.accounts import token_keys


@require_GET
@cache_control(public=True, max_age=300)  # a retired key leaves caches within minutes
def jwks(request: HttpRequest) -> JsonResponse:
    """The public keys mobile tokens are verified with (RFC 7517), for services that check
    a customer's token themselves."""
    return JsonResponse(token_keys.jwks())
