"""State written by the previous layout still loads: a MemoryStore snapshot of format 1
(per-frame lists and dicts) with a journal after it, and Redis keys of format 1 (each frame's
history list holding its current version too)."""

from __future__ import annotations

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
    journal.append(["insert", ["r", [[2, "c", 1, "hc", "seg4/0"]], "s", None, "do", None]])
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
async def test_redis_keys_of_format_1_are_migrated_on_first_use(redis_url, tmp_path):
    prefix = f"test-{tmp_path.name}:"
    store = RedisStore(redis_url, prefix=prefix)
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", [(0, FrameRef("a", 1, "h1", "seg/0")),
                             (1, FrameRef("b", 1, "h2", "seg/1"))], session="s", order_base=0)
    await store.update("r", [("a", 1, "h3", "seg/2")], session="s")
    expected = await store.export_state()
    await store.close()
    client = redis.asyncio.from_url(redis_url, decode_responses=True)
    room = f"{prefix}room:r"
    for frame_id in ("a", "b"):  # format 1: every frame's list ends with its current version
        await client.rpush(f"{room}:history:{frame_id}",
                           await client.hget(f"{room}:frames", frame_id))
        await client.sadd(f"{room}:keys", f"{room}:history:{frame_id}")
    await client.delete(f"{prefix}format")
    fresh = RedisStore(redis_url, prefix=prefix)
    assert [h["version"] for h in await fresh.frame_history("r", "a")] == [1, 2]
    assert await fresh.export_state() == expected
    assert not await client.exists(f"{room}:history:b")  # one version: no list
    assert await client.get(f"{prefix}format") == "2"
    await fresh.close()
    await client.aclose()
