"""The Redis cache shares one client per connection pool, across calls and threads."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.redis


def test_one_client_serves_every_call_and_thread():
    backend = cache._cache
    assert backend.get_client() is backend.get_client(write=True)

    def round_trip(n: int) -> object:
        cache.set(f"shared-client-{n}", {"n": n}, 30)
        return cache.get(f"shared-client-{n}")

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(round_trip, range(64))) == [{"n": n} for n in range(64)]
    assert list(backend._clients.values()) == [backend.get_client()]  # one, shared
