"""State written by the previous layout still loads: a MemoryStore snapshot of format 1
(per-frame lists and dicts) with a journal after it, and Redis keys of formats 1 (each frame's
history list holding its current version too) and 2 (frame ids, hashes and locations as text
in big hashes and the order)."""

from __future__ import annotations

import json

import msgpack
import pytest
import redis.asyncio

from zndraw_widget.state.base import FrameRef, SliceSpec
from zndraw_widget.state.journal import Journal
from zndraw_widget.state.memory import MemoryStore
from zndraw_widget.state.redis import RedisStore

ALL = SliceSpec(None, None, None)
HASH = "sha256:" + "ab" * 32


def format_1_snapshot() -> dict:
    """A room "r" of frames a (two versions, then a third kept in history only as undone
    work is not) and b, as the MemoryStore of format 1 wrote it."""
    frames = {"a": [2, "h2", "seg1/0"], "b": [1, HASH, "seg2/7"]}
    history = {"a": [[1, "h1", "seg0/3"], [2, "h2", "seg1/0"]], "b": [[1, HASH, "seg2/7"]],
               "gone": [[1, "hg", "seg3/0"]]}
    events = [{"type": "frames_inserted", "room": "r", "indices": [0, 1], "ids": ["a", "b"],
               "order_version": 1, "length": 2, "seq": 1}]
    records = {"s": {"undo": [{"op": "delete", "ids": ["a", "b"]}], "redo": []}}
    room = ["r", 1.0, ["a", "b"], frames, history, 3, 2, 0, events, records, "ann",
            {"*": "reader"}, {}, {"description": "old"}]
    return {"generation": 4, "default": "r", "sessions": {},
            "hashes": {"h1": "seg0/3", "h2": "seg1/0", HASH: "seg2/7", "hg": "seg3/0"},
            "rooms": [room]}


@pytest.mark.asyncio
async def test_a_format_1_snapshot_and_its_journal_load(tmp_path):
    (tmp_path / "state.snapshot").write_bytes(msgpack.packb(format_1_snapshot()))
    journal = Journal(tmp_path / "state.journal")
    journal.reset(4)
    await journal.append(["insert", ["r", [[2, "c", 1, "hc", "seg4/0"]], "s", None, "do", None]])
    journal.close()
    store = MemoryStore(tmp_path)
    refs = (await store.resolve("r", ALL)).refs
    assert refs == [FrameRef("a", 2, "h2", "seg1/0"), FrameRef("b", 1, HASH, "seg2/7"),
                    FrameRef("c", 1, "hc", "seg4/0")]
    assert [h["version"] for h in await store.frame_history("r", "a")] == [1, 2]
    info = await store.room_info("r")
    assert (info.seq, info.order_version, info.owner, info.description) == (3, 4, "ann", "old")
    assert (await store.events_since("r", 0))[0]["ids"] == ["a", "b"]
    assert await store.locations([HASH, "hg", "nope"]) == {HASH: "seg2/7", "hg": "seg3/0"}
    assert await store.live_segments() == {"seg0", "seg1", "seg2", "seg3", "seg4"}
    exported = await store.export_state()
    await store.close()
    again = MemoryStore(tmp_path)  # now from a snapshot of format 2, or the same journal
    again._snapshot()
    await again.close()
    last = MemoryStore(tmp_path)
    assert await last.export_state() == exported
    assert (await last.pop_record("r", "s", "undo")) == {"op": "delete", "ids": ["c"]}
    assert (await last.pop_record("r", "s", "undo")) == {"op": "delete", "ids": ["a", "b"]}
    # the arrays loaded from the snapshot take changes
    await last.update("r", [("b", 1, "h4", "seg5/2")], session="s")
    await last.insert("r", [(0, FrameRef("d", 1, "h5", "seg5/3"))], session="s", order_base=4)
    await last.delete("r", ["a"], session="s", order_base=5)
    assert [(r.id, r.version, r.hash) for r in (await last.resolve("r", ALL)).refs] == [
        ("d", 1, "h5"), ("b", 2, "h4"), ("c", 1, "hc")]
    assert [h["hash"] for h in await last.frame_history("r", "b")] == [HASH, "h4"]
    await last.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("found", [1, 2])
async def test_redis_keys_of_an_older_format_are_migrated_on_first_use(redis_url, tmp_path, found):
    """Format 1 and 2 keys, written here as those versions wrote them (text ids in the
    order, R:frames of id -> JSON, `hashes`), read as they were and take changes."""
    prefix, seg = f"test-{tmp_path.name}-{found}:", "fedcba9876543210"
    made, odd = "0123456789abcdef", "b"  # an id as the server makes them and another
    old_hash = "sha256:" + "12" * 32
    current = {made: [2, HASH, f"{seg}/2"], odd: [1, "h2", "odd/1"]}
    client = redis.asyncio.from_url(redis_url, decode_responses=True)
    room = f"{prefix}room:r"
    await client.hset(room, mapping={"seq": 3, "order_version": 1, "step": 0, "created": "1.0"})
    await client.zadd(f"{prefix}rooms", {"r": 0})
    await client.zadd(f"{room}:order", {odd: 2.5, made: 1.5})
    await client.hset(f"{room}:frames", mapping={i: json.dumps(r) for i, r in current.items()})
    past = {made: [[1, old_hash, f"{seg}/0"]], odd: []}
    for frame_id, versions in past.items():  # format 1: the current version ends the list
        values = [json.dumps(v) for v in versions + ([current[frame_id]] if found == 1 else [])]
        if values:
            await client.rpush(f"{room}:history:{frame_id}", *values)
            await client.sadd(f"{room}:keys", f"{room}:history:{frame_id}")
    await client.hset(f"{prefix}hashes", mapping={old_hash: f"{seg}/0", HASH: f"{seg}/2",
                                                  "h2": "odd/1"})
    if found == 2:
        await client.set(f"{prefix}format", 2)
    store = RedisStore(redis_url, prefix=prefix)
    resolved = await store.resolve("r", ALL)
    assert [(r.id, r.version, r.hash, r.location) for r in resolved.refs] == [
        (made, 2, HASH, f"{seg}/2"), (odd, 1, "h2", "odd/1")]
    assert (resolved.seq, resolved.order_version) == (3, 1)
    assert [h["version"] for h in await store.frame_history("r", made)] == [1, 2]
    assert await store.locations([old_hash, HASH, "h2", "h3"]) == {
        old_hash: f"{seg}/0", HASH: f"{seg}/2", "h2": "odd/1"}
    assert await client.get(f"{prefix}format") == "3"
    assert not await client.exists(f"{room}:frames", f"{prefix}hashes", f"{room}:history:{odd}")
    await store.insert("r", [(1, FrameRef("c", 1, "h3", "odd/3"))], session="s", order_base=1)
    await store.update("r", [(made, 2, "h4", "odd/4")], session="s")
    assert [(r.id, r.version) for r in (await store.resolve("r", ALL)).refs] == [
        (made, 3), ("c", 1), (odd, 1)]
    await store.close()
    await client.aclose()
