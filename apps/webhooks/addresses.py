"""Where webhooks may go (SSRF): an endpoint's URL is checked when it is saved and its host's
addresses again right before each POST.

- https only, unless WEBHOOKS_ALLOW_HTTP (development and tests post to http://127.0.0.1);
- no user:password@ in the URL (the secret signs; credentials would sit in clear in the row);
- no loopback, private, link-local (cloud metadata 169.254.169.254), shared, multicast,
  reserved or unspecified address, nor `localhost`, unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES.

Saving checks only literal addresses and names (no DNS lookup inside a service's
transaction); the send resolves the host and refuses if any address it gets is not public.
A name that re-resolves between that check and the connection (DNS rebinding) is not
caught: where that matters, send through an egress proxy that enforces the same rule."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from apps.webhooks.errors import UrlRefused

LOCAL_NAMES = ("localhost", "localhost.localdomain")


def check_url(url: str) -> None:
    """Refuse a URL webhooks must not be sent to (UrlRefused, with the reason)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(reason="malformed", url=url) from exc
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise UrlRefused("Webhook URLs must use https.", reason="scheme", url=url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused(reason="no_host", url=url)
    if parts.username or parts.password:
        raise UrlRefused("Credentials do not belong in the URL.", reason="credentials", url=url)
    if port == 0:
        raise UrlRefused(reason="port", url=url)
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise UrlRefused("The URL points at this machine.", reason="private_address", url=url)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its addresses are checked at send time
    if not _public(address):
        raise UrlRefused("The URL points at a private address.", reason="private_address", url=url)


def check_resolved(url: str) -> None:
    """Before a POST: every address the URL's host resolves to must be public (unless
    allowed). Raises UrlRefused, or OSError when the name does not resolve."""
    check_url(url)
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for *_, sockaddr in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(sockaddr[0])
        if not _public(address):
            raise UrlRefused(
                "The URL's host resolves to a private address.",
                reason="private_address",
                url=url,
            )


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
