"""Bytes of room state per frame in both stores, and how long the embedded store takes to
load it back.

Fills room ``r`` of each store through the Store API with frames as the server makes them
(16-hex ids, ``sha256:`` hashes, ``<segment>/<row>`` locations, inserted in requests of
50,000), then measures what the state costs: the embedded store with ``tracemalloc`` (live,
then once more after a reopen from its snapshot and journal, where nothing is shared with
the writer any more); Redis by ``INFO`` ``used_memory`` before and after, and again after
a restart from its RDB file (with the restart's seconds). Redis against another revision,
with the time of operations: ``bench_redis_layout.py``. See ``benchmarks/README.md``.

    python benchmarks/bench_state_memory.py [--frames N] [--load 100000,1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import redis

from zndraw_widget.state.base import FrameRef, Store
from zndraw_widget.state.memory import MemoryStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import start_redis  # noqa: E402  (the tests' helpers)

BATCH = 50_000
GOAL = 300  # bytes per frame


async def fill(store: Store, frames: int, frame_ref: type = FrameRef) -> None:
    """Room ``r`` with ``frames`` distinct frames, appended ``BATCH`` at a time
    (``frame_ref``: the ``FrameRef`` of ``store``'s package)."""
    await store.create_room("r", [], [], 1.0)
    version = 0
    for start in range(0, frames, BATCH):
        segment = secrets.token_hex(8)
        items = [(start + k, frame_ref(secrets.token_hex(8), 1,
                                       "sha256:" + secrets.token_hex(32), f"{segment}/{k}"))
                 for k in range(min(BATCH, frames - start))]
        version = (await store.insert("r", items, session="s", order_base=version)).order_version


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def embedded(frames: int, directory: Path) -> dict[str, float]:
    """Bytes per frame live and after a reopen, and the reopen's seconds."""
    tracemalloc.start()
    before = traced()
    store = MemoryStore(directory)
    await fill(store, frames)
    live = traced() - before
    await store.close()
    del store
    before = traced()
    store = MemoryStore(directory)
    reopened = traced() - before
    await store.close()
    tracemalloc.stop()
    start = time.perf_counter()
    store = MemoryStore(directory)  # timed without tracemalloc
    seconds = time.perf_counter() - start
    assert (await store.room_info("r")).length == frames
    await store.close()
    return {"live": live / frames, "reopened": reopened / frames, "load": seconds}


async def in_redis(frames: int, directory: Path) -> dict[str, float]:
    """Bytes per frame live and after a restart from the RDB file, and the restart's
    seconds."""
    from zndraw_widget.state.redis import RedisStore

    process, url = start_redis(directory)
    try:
        client = redis.Redis.from_url(url)
        before = client.info("memory")["used_memory"]
        store = RedisStore(url + "?socket_timeout=120")  # big scripts on a busy machine
        await fill(store, frames)
        await store.close()
        after = client.info("memory")["used_memory"]
        client.save()
        client.close()
    finally:
        process.terminate()
        process.wait()
    start = time.perf_counter()
    process, url = start_redis(directory)  # loads dump.rdb from its directory
    seconds = time.perf_counter() - start
    try:
        client = redis.Redis.from_url(url)
        restarted = client.info("memory")["used_memory"]
        client.close()
    finally:
        process.terminate()
        process.wait()
    return {"live": (after - before) / frames, "restarted": (restarted - before) / frames,
            "restart": seconds}


async def load_time(frames: int, directory: Path) -> float:
    store = MemoryStore(directory)
    await fill(store, frames)
    await store.close()
    start = time.perf_counter()
    store = MemoryStore(directory)
    seconds = time.perf_counter() - start
    await store.close()
    return seconds


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--load", default="100000,1000000",
                        help="room sizes whose load time is compared ('' for none)")
    options = parser.parse_args()
    frames = options.frames
    with tempfile.TemporaryDirectory(prefix="zndraw-state-") as directory:
        print(f"... embedded, {frames:,} frames", file=sys.stderr, flush=True)
        memory = await embedded(frames, Path(directory) / "memory")
        print(f"... redis, {frames:,} frames", file=sys.stderr, flush=True)
        (Path(directory) / "redis").mkdir()
        in_redis_ = await in_redis(frames, Path(directory) / "redis")
        loads = {}
        for size in [int(n) for n in options.load.split(",") if n]:
            print(f"... load of {size:,} frames", file=sys.stderr, flush=True)
            loads[size] = await load_time(size, Path(directory) / f"load-{size}")
    ok = True
    print(f"bytes per frame at {frames:,} frames (goal <= {GOAL})")
    for name, value in [("embedded, live", memory["live"]),
                        ("embedded, reopened", memory["reopened"]),
                        ("redis (used_memory)", in_redis_["live"]),
                        ("redis, restarted", in_redis_["restarted"])]:
        passed = value <= GOAL
        ok &= passed
        print(f"  {name:<22} {value:>8.0f}  {'PASS' if passed else 'FAIL'}")
    print(f"embedded reopen of {frames:,} frames: {memory['load']:.2f} s")
    print(f"redis restart from its RDB file: {in_redis_['restart']:.2f} s")
    if len(loads) == 2:
        (small, t_small), (large, t_large) = loads.items()
        print(f"embedded load (snapshot + journal, in process): {small:,} frames "
              f"{t_small:.2f} s, {large:,} frames {t_large:.2f} s, ratio {t_large / t_small:.1f} "
              f"(the server's restart: bench_restart.py)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
