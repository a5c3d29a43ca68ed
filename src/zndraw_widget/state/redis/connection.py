"""Redis clients of a server process: a bounded pool whose callers wait for a free
connection instead of failing.

redis-py's default pool raises "Too many connections" once ``max_connections`` (100) are
busy, which a burst of requests reaches at once (a hundred viewers joining a room issue
five reads each). A :class:`~redis.asyncio.BlockingConnectionPool` queues them instead,
and only a wait longer than :data:`POOL_WAIT` fails (as the backend being unavailable).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

POOL_SIZE = 64  # connections a process opens to Redis at most
POOL_WAIT = 20.0  # seconds a command waits for one of them before it fails


def connect(url: str, **options: Any) -> redis.asyncio.Redis:
    """A client of the Redis at ``url`` with its own waiting pool (closed with the client)."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT, **options)
    return redis.asyncio.Redis.from_pool(pool)
