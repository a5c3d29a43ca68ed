"""Room state backends."""

from __future__ import annotations

from .base import Store
from .memory import MemoryStore


def open_store(redis_url: str | None, path: str | None, redis_prefix: str = "zdw:",
               **options) -> Store:
    """The Redis store for ``redis_url`` (its keys under ``redis_prefix``, one per
    deployment sharing a Redis database), else the embedded one persisted under ``path``."""
    if redis_url:
        from .redis import RedisStore

        return RedisStore(redis_url, prefix=redis_prefix, **options)
    return MemoryStore(path, **options)


__all__ = ["MemoryStore", "Store", "open_store"]
