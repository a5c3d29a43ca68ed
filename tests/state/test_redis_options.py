"""What a shared Redis needs: a key prefix per deployment and a password in the URL."""

from __future__ import annotations

import pytest
from redis.exceptions import AuthenticationError, ConnectionError

from zndraw_widget.state import open_store

from ..conftest import start_redis, stop_process


@pytest.mark.asyncio
async def test_two_deployments_share_a_password_protected_redis(tmp_path):
    process, url = start_redis(tmp_path, "--requirepass", "s3cret")
    with_password = url.replace("unix://", "unix://:s3cret@")
    try:
        first = open_store(with_password, None, redis_prefix="first:")
        second = open_store(with_password, None, redis_prefix="second:")
        await first.create_room("r", [], [], 1.0)
        await second.create_room("r", [], [], 2.0)  # the same name: no collision
        await first.set_default_room("r")
        assert (await first.room_info("r")).created == 1.0
        assert (await second.room_info("r")).created == 2.0
        assert await second.get_default_room() is None
        await first.delete_room("r")
        assert (await second.list_rooms(0, 10))[0] == 1
        wrong = open_store(url.replace("unix://", "unix://:wrong@"), None)
        with pytest.raises((AuthenticationError, ConnectionError), match="password"):
            await wrong.list_rooms(0, 10)
        for store in (first, second, wrong):
            await store.close()
    finally:
        stop_process(process)


@pytest.mark.asyncio
async def test_a_burst_beyond_the_connection_pool_waits_for_connections(redis_url):
    """More operations at once than the pool has connections (a hundred viewers joining)
    queue for a connection instead of failing with "Too many connections"."""
    import asyncio

    from zndraw_widget.state.redis.connection import POOL_SIZE

    store = open_store(redis_url, None, redis_prefix="burst:")
    try:
        await store.create_room("r", [], [], 1.0)
        infos = await asyncio.gather(*(store.room_info("r") for _ in range(5 * POOL_SIZE)))
        assert {info.name for info in infos} == {"r"}
    finally:
        await store.close()
