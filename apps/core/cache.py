"""Django's Redis cache with one redis client per connection pool, not one per call.

Django builds a new `redis.Redis` for every cache read and write, and building one (its
response callbacks) costs more than the command: a P2P transfer's throttles paid it six times.
A client is safe to share between threads (each command checks a connection out of the
pool) and after a fork (the pool notices the new process)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # by id() of its pool, which lives as long

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClient

    def redis_client(self) -> Any:
        """The redis client itself, for what the cache API cannot say in one round trip
        (the throttles' script)."""
        return self._cache.get_client(write=True)  # type: ignore[attr-defined]
