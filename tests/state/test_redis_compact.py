"""The Redis store's compact layout (``state/redis/lua/prelude.lua``: packed ids, hashes and
locations in bucketed maps) with thousands of frames, most as the server makes them: the
same operations on a RedisStore and a MemoryStore give the same results throughout, and
the buckets stay small hashes (listpack-encoded)."""

from __future__ import annotations

import random

import pytest
import redis.asyncio

from zndraw_widget.state.base import FrameRef, SliceSpec
from zndraw_widget.state.memory import MemoryStore
from zndraw_widget.state.redis import RedisStore

ALL = SliceSpec(None, None, None)
# values without a packed form, among them some as long as the packed ones (and short
# enough for a frame's value to stay within a listpack's 64 bytes)
ODD_IDS = ["a", "frame-1", "abcdefgh", "0123456789ABCDEF", "0123456789abcde", "é-ü/7"]
ODD_HASHES = ["h1", "x" * 32, "x" * 31]
LONG_HASHES = ["sha256:" + "AB" * 32, "sha256:" + "ab" * 31]  # values beyond 64 bytes
ODD_LOCATIONS = ["seg/1", "0123456789abcdef/007", "0123456789abcdef/4294967296",
                 "0123456789abcdef", "x" * 12, "x" * 11, "a/b/3"]


class Frames:
    """Frames as the server makes them (16-hex ids, sha256 hashes, ``<segment>/<row>``),
    one in ten with odd values."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.odd = iter(ODD_IDS)
        self.segment = self.hex(16)

    def hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def ref(self, version: int = 1) -> FrameRef:
        if self.rng.random() < 0.1:
            frame_id = next(self.odd, None) or f"odd-{self.hex(6)}"
            return FrameRef(frame_id, version, self.rng.choice(ODD_HASHES),
                            self.rng.choice(ODD_LOCATIONS))
        return FrameRef(self.hex(16), version, "sha256:" + self.hex(64),
                        f"{self.segment}/{self.rng.randrange(1 << 32)}")

    def content(self) -> tuple[str, str]:
        ref = self.ref()
        return ref.hash, ref.location


async def same(stores: list, method: str, *args, **kwargs):
    """Call ``method`` on both stores; both answer alike (commits: counters and versions)."""
    answers = [await getattr(store, method)(*args, **kwargs) for store in stores]
    first, second = answers
    if hasattr(first, "events"):  # a Commit: events carry times
        assert (first.seq, first.order_version, first.versions) == (
            second.seq, second.order_version, second.versions)
    else:
        assert first == second, method
    return first


async def check_room(stores: list, room: str, rng: random.Random) -> list[FrameRef]:
    """Both stores hold the same frames in the same order; the room's frames."""
    frames = (await same(stores, "resolve", room, ALL)).refs
    length = len(frames)
    if length:
        await same(stores, "resolve", room, [rng.randrange(-length, length) for _ in range(50)])
        await same(stores, "resolve", room, SliceSpec(length - 1, None, -3))
        await same(stores, "resolve", room, SliceSpec(length // 3, length // 2, 7))
    return frames


@pytest.mark.asyncio
async def test_thousands_of_frames_agree_with_the_memory_store(redis_url, tmp_path):
    prefix = f"test-{tmp_path.name}:"
    stores = [RedisStore(redis_url, prefix=prefix), MemoryStore()]
    rng, make = random.Random(7), Frames(7)
    await same(stores, "create_room", "r", [], [], 1.0)
    version = 0
    for batch in range(12):  # 3,000 frames, inserted at the end, the front and inside
        length = batch * 250
        start = [length, 0, rng.randrange(length + 1)][batch % 3]
        items = [(start + k, make.ref()) for k in range(250)]
        version = (await same(stores, "insert", "r", items, session="s",
                              order_base=version)).order_version
    frames = await check_room(stores, "r", rng)
    assert len(frames) == 3000
    # updates, one at a time and many at once
    for ref in rng.sample(frames, 20):
        hash_, location = make.content()
        await same(stores, "update", "r", [(ref.id, ref.version, hash_, location)], session="s")
    frames = await check_room(stores, "r", rng)
    changes = [(ref.id, ref.version, *make.content()) for ref in rng.sample(frames, 500)]
    await same(stores, "update", "r", changes, session="s")
    frames = await check_room(stores, "r", rng)
    for ref in rng.sample(frames, 5):
        await same(stores, "frame_history", "r", ref.id)
    # deletes: a few, then a thousand
    for count in (1, 3, 1000):
        ids = [ref.id for ref in rng.sample(frames, count)]
        version = (await same(stores, "delete", "r", ids, session="s",
                              order_base=version)).order_version
        frames = await check_room(stores, "r", rng)
    # undo of the big delete puts the frames back where they were
    record = await same(stores, "pop_record", "r", "s", "undo")
    items = [(i, FrameRef(frame_id, v, h, loc)) for i, frame_id, v, h, loc in record["items"]]
    version = (await same(stores, "insert", "r", items, session="s", order_base=version,
                          record="undo")).order_version
    frames = await check_room(stores, "r", rng)
    # a splice: update, delete, move and insert at once
    moved = frames[10]
    deleted = [moved.id] + [ref.id for ref in frames[100:140]]
    updated = [(ref.id, ref.version, *make.content()) for ref in frames[500:510]]
    inserted = [(0, moved)] + [(50 + k, make.ref()) for k in range(30)]
    version = (await same(stores, "splice", "r", deleted, inserted, updated, session="s",
                          order_base=version)).order_version
    frames = await check_room(stores, "r", rng)
    # a copy, the content hashes' locations, the segments in use, forgetting one
    await same(stores, "create_room", "copy", frames[:1000],
               [make.hex(16) for _ in range(1000)], 2.0)
    await check_room(stores, "copy", rng)
    hashes = list({ref.hash for ref in frames}) + ["sha256:" + make.hex(64), "nope"]
    await same(stores, "locations", hashes)
    await same(stores, "live_segments")
    await same(stores, "forget_segments", {make.segment, "seg"})
    await same(stores, "locations", hashes)
    # the layout: many buckets, each still a listpack
    client = redis.asyncio.from_url(redis_url)
    buckets = [key for pattern in ("room:r:refs:*", "room:copy:refs:*", "contents:*")
               async for key in client.scan_iter(match=prefix + pattern)]
    assert len(buckets) > 100
    assert {await client.object("encoding", key) for key in buckets} == {b"listpack"}
    # odd values too long for a listpack are kept all the same
    await same(stores, "create_room", "long", [], [], 3.0)
    long = [(k, FrameRef(f"long-{k}", 1, h, "seg/1")) for k, h in enumerate(LONG_HASHES)]
    await same(stores, "insert", "long", long, session="s", order_base=0)
    await check_room(stores, "long", rng)
    await same(stores, "locations", LONG_HASHES)
    # a backup of the compact layout loads back the same
    exported = await stores[0].export_state()
    again = RedisStore(redis_url, prefix=prefix + "again:")
    await again.import_state(exported)
    assert await again.export_state() == exported
    for name in ("r", "copy"):
        assert (await again.resolve(name, ALL)).refs == (await stores[0].resolve(name, ALL)).refs
    # deleting the rooms leaves nothing of them
    for store in (stores[0], again):
        for name in ("r", "copy", "long"):
            await store.delete_room(name)
        await store.close()
    assert [key async for key in client.scan_iter(match=f"{prefix}room:*")] == []
    await client.aclose()
    await stores[1].close()
