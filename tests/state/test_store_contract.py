"""One contract for every state backend: MemoryStore and RedisStore pass the same tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import pytest_asyncio

from zndraw_widget.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    KeyReused,
    Locked,
    NotFound,
    PayloadTooLarge,
)
from zndraw_widget.state.base import (
    ORDER,
    PRESENTER,
    REMEMBERED_KEYS,
    SHARED_KINDS,
    FrameRef,
    Idempotency,
    SliceSpec,
    frame_target,
)
from zndraw_widget.state.failures import Failure
from zndraw_widget.state.memory import MemoryStore

from ..conftest import start_redis

ALL = SliceSpec(None, None, None)


def refs(*names: str, version: int = 1) -> list[FrameRef]:
    return [FrameRef(f"id-{n}", version, f"sha256:{n}", f"seg/{n}") for n in names]


def items(start: int, *names: str) -> list[tuple[int, FrameRef]]:
    return [(start + k, ref) for k, ref in enumerate(refs(*names))]


@contextmanager
def fails(exception: type[Exception], kind: Failure) -> Iterator[pytest.ExceptionInfo]:
    """Expect ``exception`` of failure ``kind``: every store fails alike, down to the kind."""
    with pytest.raises(exception) as error:
        yield error
    assert error.value.failure is kind


async def make_store(kind: str, tmp_path, redis_url: str | None):
    if kind == "memory":
        return MemoryStore()
    if kind == "memory-persisted":
        return MemoryStore(tmp_path / "state")
    from zndraw_widget.state.redis import RedisStore

    store = RedisStore(redis_url, prefix=f"test-{tmp_path.name}:")
    return store


@pytest.fixture(params=["memory", "memory-persisted", "redis"])
def store_kind(request):
    return request.param


@pytest_asyncio.fixture
async def store(store_kind, tmp_path, request):
    url = request.getfixturevalue("redis_url") if store_kind == "redis" else None
    store = await make_store(store_kind, tmp_path, url)
    yield store
    await store.close()


async def ids(store, room="r") -> list[str]:
    return [ref.id for ref in (await store.resolve(room, ALL)).refs]


@pytest.mark.asyncio
async def test_rooms_lifecycle(store):
    info = await store.create_room("r", [], [], 1.0)
    assert (info.name, info.length, info.seq, info.order_version) == ("r", 0, 0, 0)
    with fails(AlreadyExists, Failure.ROOM_EXISTS):
        await store.create_room("r", [], [], 2.0)
    await store.create_room("a", [], [], 3.0)
    total, rooms = await store.list_rooms(0, 10)
    assert total == 2 and [r.name for r in rooms] == ["a", "r"]
    total, rooms = await store.list_rooms(1, 1)
    assert total == 2 and [r.name for r in rooms] == ["r"]
    await store.delete_room("a")
    with fails(NotFound, Failure.NO_ROOM):
        await store.room_info("a")
    with fails(NotFound, Failure.NO_ROOM):
        await store.delete_room("a")


@pytest.mark.asyncio
async def test_default_room(store):
    assert await store.get_default_room() is None
    with fails(NotFound, Failure.NO_ROOM):
        await store.set_default_room("missing")
    await store.create_room("d", [], [], 1.0)
    await store.set_default_room("d")
    assert await store.get_default_room() == "d"
    await store.delete_room("d")
    assert await store.get_default_room() is None


@pytest.mark.asyncio
async def test_copy_shares_content_with_new_ids(store):
    await store.create_room("base", [], [], 1.0)
    await store.insert("base", items(0, "a", "b"), session="s", order_base=0)
    base = (await store.resolve("base", ALL)).refs
    info = await store.create_room("copy", base, ["n1", "n2"], 2.0)
    assert info.length == 2
    copy = (await store.resolve("copy", ALL)).refs
    assert [r.id for r in copy] == ["n1", "n2"]
    assert [(r.hash, r.location, r.version) for r in copy] == [
        (r.hash, r.location, 1) for r in base]


@pytest.mark.asyncio
async def test_insert_resolve_and_counters(store):
    await store.create_room("r", [], [], 1.0)
    commit = await store.insert("r", items(0, "a", "b", "c"), session="s", order_base=0)
    assert (commit.seq, commit.order_version) == (1, 1)
    assert commit.events[0]["type"] == "frames_inserted"
    assert commit.events[0]["indices"] == [0, 1, 2] and commit.events[0]["seq"] == 1
    await store.insert("r", items(1, "x"), session="s", order_base=1)
    assert await ids(store) == ["id-a", "id-x", "id-b", "id-c"]
    resolved = await store.resolve("r", [-1, 0])
    assert resolved.indices == [3, 0] and [r.id for r in resolved.refs] == ["id-c", "id-a"]
    resolved = await store.resolve("r", SliceSpec(None, None, -2))
    assert resolved.indices == [3, 1]
    assert (resolved.length, resolved.seq, resolved.order_version) == (4, 2, 2)
    with fails(IndexError, Failure.INDEX):
        await store.resolve("r", [4])
    with fails(IndexError, Failure.INDEX):
        await store.resolve("r", [-5])
    with fails(NotFound, Failure.NO_ROOM):
        await store.resolve("missing", [0])


@pytest.mark.asyncio
async def test_insert_many_at_front_keeps_order(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, *"abcdefgh"), session="s", order_base=0)
    for k in range(60):  # repeated inserts at one place exhaust naive fractional scores
        await store.insert("r", [(1, FrameRef(f"f{k}", 1, "h", "l"))], session="s",
                           order_base=k + 1)
    order = await ids(store)
    assert order[0] == "id-a" and order[1] == "f59" and order[60] == "f0"
    assert order[61:] == [f"id-{c}" for c in "bcdefgh"]


@pytest.mark.asyncio
async def test_stale_order_base_conflicts_and_changes_nothing(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    with fails(Conflict, Failure.ORDER_CHANGED) as error:
        await store.insert("r", items(0, "b"), session="s", order_base=0)
    assert error.value.current_version == 1
    with fails(Conflict, Failure.ORDER_CHANGED):
        await store.delete("r", ["id-a"], session="s", order_base=0)
    assert await ids(store) == ["id-a"]
    assert (await store.room_info("r")).seq == 1


@pytest.mark.asyncio
async def test_delete(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b", "c", "d"), session="s", order_base=0)
    commit = await store.delete("r", ["id-b", "id-d"], session="s", order_base=1)
    assert commit.events[0]["type"] == "frames_deleted"
    assert commit.events[0]["indices"] == [1, 3]
    assert await ids(store) == ["id-a", "id-c"]
    with fails(Conflict, Failure.FRAMES_MISSING):
        await store.delete("r", ["id-b"], session="s", order_base=2)


@pytest.mark.asyncio
async def test_update_versions_history_and_conflict(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b"), session="s", order_base=0)
    commit = await store.update("r", [("id-b", 1, "sha256:b2", "seg/b2")], session="s")
    assert commit.versions == [2]
    assert isinstance(commit.events[0].pop("time"), float)  # when it was made
    assert commit.events[0] == {"type": "frame_updated", "room": "r", "frame": 1, "id": "id-b",
                                "version": 2, "seq": 2}
    ref = (await store.resolve("r", [1])).refs[0]
    assert (ref.version, ref.hash, ref.location) == (2, "sha256:b2", "seg/b2")
    with fails(Conflict, Failure.FRAME_VERSION) as error:
        await store.update("r", [("id-b", 1, "sha256:b3", "seg/b3")], session="t")
    assert error.value.current_version == 2
    assert (await store.resolve("r", [1])).refs[0].hash == "sha256:b2"
    history = await store.frame_history("r", "id-b")
    assert history == [{"version": 1, "hash": "sha256:b"}, {"version": 2, "hash": "sha256:b2"}]
    assert await store.locations(["sha256:b2", "sha256:zz"]) == {"sha256:b2": "seg/b2"}


@pytest.mark.asyncio
async def test_update_of_several_frames_is_all_or_nothing(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b"), session="s", order_base=0)
    with fails(Conflict, Failure.FRAME_VERSION):
        await store.update("r", [("id-a", 1, "h1", "l1"), ("id-b", 7, "h2", "l2")], session="s")
    assert [r.version for r in (await store.resolve("r", ALL)).refs] == [1, 1]


@pytest.mark.asyncio
async def test_an_update_naming_a_frame_twice_makes_two_versions(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    commit = await store.update("r", [("id-a", 1, "sha256:x", "seg/x"),
                                      ("id-a", 1, "sha256:y", "seg/y")], session="s")
    assert commit.versions == [2, 3]
    ref = (await store.resolve("r", [0])).refs[0]
    assert (ref.version, ref.hash, ref.location) == (3, "sha256:y", "seg/y")
    assert [v["hash"] for v in await store.frame_history("r", "id-a")] == [
        "sha256:a", "sha256:x", "sha256:y"]
    assert await store.pop_record("r", "s", "undo") == {"op": "update", "frames": [
        ["id-a", "sha256:x", "sha256:a", "seg/a"], ["id-a", "sha256:y", "sha256:x", "seg/x"]]}


@pytest.mark.asyncio
async def test_frame_failures(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    with fails(Conflict, Failure.FRAME_GONE):
        await store.update("r", [("id-x", 1, "h", "l")], session="s")
    with fails(Conflict, Failure.FRAME_CHANGED) as error:  # undo/redo check the content
        await store.update("r", [("id-a", "sha256:other", "h", "l")], session="s",
                           record="undo")
    assert error.value.current_version == 1
    with fails(NotFound, Failure.NO_FRAME):
        await store.frame_history("r", "id-x")
    with fails(BadRequest, Failure.STEP_ZERO):
        await store.resolve("r", SliceSpec(None, None, 0))


@pytest.mark.asyncio
async def test_undo_records(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    record = await store.pop_record("r", "s", "undo")
    assert record == {"op": "delete", "ids": ["id-a"]}
    assert await store.pop_record("r", "s", "undo") is None
    await store.push_record("r", "s", "undo", record)
    await store.delete("r", ["id-a"], session="s", order_base=None, record="undo")
    assert await ids(store) == []
    redo = await store.pop_record("r", "s", "redo")
    assert redo["op"] == "insert"
    assert redo["items"] == [[0, "id-a", 1, "sha256:a", "seg/a"]]
    assert await store.pop_record("r", "other", "undo") is None


@pytest.mark.asyncio
async def test_leases(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    lease = await store.acquire("r", ORDER, "alice", 10)
    assert lease.holder == "alice"
    with fails(Locked, Failure.LOCKED) as error:
        await store.acquire("r", ORDER, "bob", 10)
    assert error.value.holder == "alice"
    with fails(Locked, Failure.LOCKED):
        await store.insert("r", items(1, "b"), session="bob", order_base=1)
    with fails(Locked, Failure.HELD):
        await store.renew("r", ORDER, "bob", 10)
    with fails(Locked, Failure.HELD):
        await store.release("r", ORDER, "bob")
    await store.insert("r", items(1, "b"), session="alice", order_base=1)
    await store.acquire("r", frame_target("id-a"), "alice", 10)
    with fails(Locked, Failure.LOCKED):
        await store.update("r", [("id-a", 1, "h", "l")], session="bob")
    assert {lease.target for lease in await store.leases("r")} == {ORDER, "frame:id-a"}
    released = await store.release_all("alice")
    assert {lease.target for lease in released} == {ORDER, "frame:id-a"}
    assert await store.leases("r") == []
    await store.update("r", [("id-a", 1, "h", "l")], session="bob")
    assert await store.release("r", ORDER, "bob") is False


@pytest.mark.asyncio
async def test_lease_expires(store):
    await store.create_room("r", [], [], 1.0)
    await store.acquire("r", ORDER, "alice", 0.05)
    with fails(Locked, Failure.LOCKED):
        await store.acquire("r", ORDER, "bob", 10)
    # Wait out the TTL itself: expiry is the behaviour under test.
    await asyncio.sleep(0.1)
    lease = await store.acquire("r", ORDER, "bob", 10)
    assert lease.holder == "bob"
    with fails(NotFound, Failure.NO_LEASE):
        await store.renew("r", PRESENTER, "alice", 10)


@pytest.mark.asyncio
async def test_step_needs_presenter(store):
    await store.create_room("r", [], [], 1.0)
    with fails(Locked, Failure.NOT_PRESENTER):
        await store.set_step("r", 3, "alice")
    await store.acquire("r", PRESENTER, "alice", 5)
    assert await store.set_step("r", 0, "alice") == 0  # an empty room's only step
    await store.insert("r", items(0, "a", "b", "c", "d"), session="s", order_base=0)
    assert await store.set_step("r", 3, "alice") == 3
    assert (await store.room_info("r")).step == 3
    with fails(Locked, Failure.NOT_PRESENTER):
        await store.set_step("r", 2, "bob")


@pytest.mark.asyncio
async def test_step_outside_the_room_is_refused(store):
    await store.create_room("r", [], [], 1.0)
    await store.acquire("r", PRESENTER, "alice", 5)
    with fails(IndexError, Failure.STEP_RANGE):
        await store.set_step("r", 1, "alice")
    await store.insert("r", items(0, "a", "b"), session="s", order_base=0)
    before = await store.room_info("r")
    for step in (2, 2**64 - 1, -1):
        with fails(IndexError, Failure.STEP_RANGE):
            await store.set_step("r", step, "alice")
    assert await store.room_info("r") == before


@pytest.mark.asyncio
async def test_events_since(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    await store.insert("r", items(1, "b"), session="s", order_base=1)
    await store.update("r", [("id-a", 1, "h", "l")], session="s")
    events = await store.events_since("r", 1)
    assert [e["seq"] for e in events] == [2, 3]
    assert [e["type"] for e in events] == ["frames_inserted", "frame_updated"]
    assert await store.events_since("r", 3) == []


@pytest.mark.asyncio
async def test_events_since_too_old(store):
    await store.create_room("r", [], [], 1.0)
    for k in range(1005):
        await store.insert("r", [(k, FrameRef(f"f{k}", 1, "h", "l"))], session="s",
                           order_base=k)
    assert await store.events_since("r", 0) is None
    assert len(await store.events_since("r", 1000)) == 5


@pytest.mark.asyncio
async def test_event_log_is_bounded_by_bytes(store):
    await store.create_room("r", [], [], 1.0)
    big = "x" * (64 << 10)  # each event carries a 64 KiB frame id
    for k in range(80):
        await store.insert("r", [(k, FrameRef(f"{big}{k}", 1, "h", "l"))], session="s",
                           order_base=k)
    assert await store.events_since("r", 10) is None  # 70 events are more than 4 MiB
    kept = await store.events_since("r", 80 - 32)
    assert [e["seq"] for e in kept] == list(range(49, 81))


@pytest.mark.asyncio
async def test_subscribe_sees_commits(store):
    await store.create_room("r", [], [], 1.0)
    subscription = await store.subscribe("r")
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    event = await asyncio.wait_for(subscription.__anext__(), 5)
    assert event["type"] == "frames_inserted" and event["seq"] == 1
    await subscription.aclose()


@pytest.mark.asyncio
async def test_every_live_event_carries_the_time_it_was_made(store):
    await store.create_room("r", [], [], 1.0)
    subscription = await store.subscribe("r")
    before = time.time()
    await store.insert("r", items(0, "a"), session="s", order_base=0)  # a data change
    await store.acquire("r", ORDER, "s", 10.0)  # a lease event (seq not bumped)
    await store.publish("r", {"type": "presence", "session": "s", "present": True})
    assert "time" not in (await store.events_since("r", 0))[0]  # the log leaves it out
    await store.delete_room("r")
    after = time.time()
    events = [await asyncio.wait_for(subscription.__anext__(), 5) for _ in range(4)]
    assert [e["type"] for e in events] == ["frames_inserted", "lease", "presence",
                                          "room_deleted"]
    times = [e["time"] for e in events]  # the store's clock (Redis's: the same machine here)
    assert before <= times[0] and times[-1] <= after and times == sorted(times)
    await subscription.aclose()


@pytest.mark.asyncio
async def test_bad_ids_on_insert(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    with fails(BadRequest, Failure.FRAME_EXISTS):
        await store.insert("r", items(0, "a"), session="s", order_base=1)
    with fails(IndexError, Failure.INSERT_POSITION):
        await store.insert("r", items(5, "b"), session="s", order_base=1)
    assert await ids(store) == ["id-a"]


@pytest.mark.asyncio
async def test_empty_writes_change_nothing(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    before = await store.room_info("r")
    for commit in [await store.insert("r", [], session="s", order_base=1),
                   await store.delete("r", [], session="s", order_base=1),
                   await store.update("r", [], session="s")]:
        assert (commit.seq, commit.order_version, commit.events) == (1, 1, [])
    assert await store.room_info("r") == before
    assert [event["seq"] for event in await store.events_since("r", 0)] == [1]
    assert await store.pop_record("r", "s", "undo") == {"op": "delete", "ids": ["id-a"]}
    assert await store.pop_record("r", "s", "undo") is None
    with fails(Conflict, Failure.ORDER_CHANGED):  # checked as any structural write
        await store.insert("r", [], session="s", order_base=0)
    assert (await store.resolve("r", [])).refs == []
    assert (await store.resolve("r", ALL)).indices == [0]


@pytest.mark.asyncio
async def test_ids_given_twice(store):
    await store.create_room("r", [], [], 1.0)
    with fails(BadRequest, Failure.FRAME_EXISTS):
        await store.insert("r", items(0, "a", "a"), session="s", order_base=0)
    await store.insert("r", items(0, "a", "b", "c"), session="s", order_base=0)
    commit = await store.delete("r", ["id-c", "id-a", "id-c"], session="s", order_base=1)
    assert commit.events[0]["indices"] == [0, 2]
    assert await ids(store) == ["id-b"]
    undo = await store.pop_record("r", "s", "undo")
    assert undo == {"op": "insert", "items": [
        [0, "id-a", 1, "sha256:a", "seg/a"], [2, "id-c", 1, "sha256:c", "seg/c"]]}


@pytest.mark.asyncio
async def test_memory_store_survives_restart(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b"), session="s", order_base=0)
    await store.update("r", [("id-b", 1, "h2", "l2")], session="s", key=Idempotency("k", "d"))
    with pytest.raises(RuntimeError, match="in use by another process"):
        MemoryStore(tmp_path)
    await store.close()
    # A torn record at the end (a crash mid-write) is dropped, the rest replayed.
    with open(tmp_path / "state.journal", "ab") as f:
        f.write(b"\x40\x00\x00\x00partial")
    again = MemoryStore(tmp_path)
    refs_ = (await again.resolve("r", ALL)).refs
    assert [(r.id, r.version, r.hash) for r in refs_] == [("id-a", 1, "sha256:a"), ("id-b", 2, "h2")]
    assert (await again.room_info("r")).seq == 2
    assert (await again.recall("r", Idempotency("k", "d"))).versions == [2]  # in the journal
    again._snapshot()
    await again.close()
    snapshotted = MemoryStore(tmp_path)
    assert (await snapshotted.recall("r", Idempotency("k", "d"))).versions == [2]
    await snapshotted.close()


@pytest.mark.asyncio
async def test_owner_and_grants_are_kept_with_the_room_and_announced(store):
    info = await store.create_room("r", [], [], 1.0, owner="ann")
    assert (info.owner, info.grants) == ("ann", {})
    await store.create_room("old", [], [], 1.0)  # made before owners existed
    assert ((await store.room_info("old")).owner, (await store.room_info("old")).grants) == (
        None, {})
    subscription = await store.subscribe("r")
    grants = {"user:ben": "write", "group:lab": "read", "*": "read"}
    info = await store.set_access("r", "ann", grants)
    assert (info.owner, info.grants, info.seq) == ("ann", grants, 0)  # not a data change
    event = await asyncio.wait_for(subscription.__anext__(), 5)
    assert (event["type"], event["room"], event["owner"], event["grants"]) == (
        "access", "r", "ann", grants)
    await subscription.aclose()
    assert (await store.room_info("r")).grants == grants
    _, rooms = await store.list_rooms(0, 10)
    assert [(r.name, r.owner, r.grants) for r in rooms] == [("old", None, {}), ("r", "ann", grants)]
    info = await store.set_access("old", "ben", {})
    assert (info.owner, info.grants) == ("ben", {})
    with fails(NotFound, Failure.NO_ROOM):
        await store.set_access("missing", "ann", {})


@pytest.mark.asyncio
async def test_a_session_belongs_to_the_first_user_that_claims_it(store):
    await store.claim_session("s1", "alice", 60)
    await store.claim_session("s1", "alice", 60)  # renewed
    with fails(Forbidden, Failure.SESSION_TAKEN):
        await store.claim_session("s1", "bob", 60)
    await store.claim_session("s2", "bob", 0.05)
    # Wait out the binding itself: its expiry is the behaviour under test.
    await asyncio.sleep(0.1)
    await store.claim_session("s2", "alice", 60)
    with fails(Forbidden, Failure.SESSION_TAKEN):
        await store.claim_session("s2", "bob", 60)


@pytest.mark.asyncio
async def test_leases_carry_their_sessions_user(store):
    await store.create_room("r", [], [], 1.0)
    subscription = await store.subscribe("r")
    lease = await store.acquire("r", ORDER, "s1", 10, user="alice")
    assert (lease.holder, lease.user) == ("s1", "alice")
    event = await asyncio.wait_for(subscription.__anext__(), 5)
    assert (event["holder"], event["user"]) == ("s1", "alice")
    await subscription.aclose()
    assert (await store.renew("r", ORDER, "s1", 10)).user == "alice"
    assert [(x.holder, x.user) for x in await store.leases("r")] == [("s1", "alice")]
    assert [x.user for x in await store.release_all("s1")] == ["alice"]


@pytest.mark.asyncio
async def test_memory_store_keeps_access_and_sessions_across_restarts(tmp_path, monkeypatch):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0, owner="ann")
    await store.set_access("r", "ann", {"*": "read"})
    await store.claim_session("s1", "ann", 3600)
    await store.close()
    for snapshot_every in (10_000, 1, 10_000):  # from the journal, snapshotted, from that
        monkeypatch.setattr("zndraw_widget.state.memory.SNAPSHOT_RECORDS", snapshot_every)
        again = MemoryStore(tmp_path)
        info = await again.room_info("r")
        assert (info.owner, info.grants) == ("ann", {"*": "read"})
        with fails(Forbidden, Failure.SESSION_TAKEN):
            await again.claim_session("s1", "bob", 60)
        await again.close()


@pytest.mark.asyncio
async def test_expired_leases_are_swept_once_and_announced(store):
    await store.create_room("r", [], [], 1.0)
    subscription = await store.subscribe("r")
    await store.acquire("r", ORDER, "alice", 0.05)
    assert (await asyncio.wait_for(subscription.__anext__(), 5))["holder"] == "alice"
    await asyncio.sleep(0.1)  # wait out the TTL: expiry is what is tested
    expired = await store.expire_leases()
    assert [(lease.target, lease.holder) for lease in expired] == [(ORDER, "alice")]
    assert await store.expire_leases() == []
    event = await asyncio.wait_for(subscription.__anext__(), 5)
    assert event["type"] == "lease" and event["holder"] is None and event["expired"] == "alice"
    await subscription.aclose()


@pytest.mark.asyncio
async def test_presence(store):
    await store.create_room("r", [], [], 1.0)
    subscription = await store.subscribe("r")
    assert await store.presence("r", "s1", "alice") == [{"session": "s1", "user": "alice"}]
    present = await store.presence("r", "s2", "bob")
    assert sorted(p["session"] for p in present) == ["s1", "s2"]
    await store.presence("r", "s2", "bob")  # a renewal: it tells nobody
    assert await store.presence("r", "s1", None) == [{"session": "s2", "user": "bob"}]
    events = [await asyncio.wait_for(subscription.__anext__(), 5) for _ in range(3)]
    assert [(e["session"], e["present"]) for e in events] == [("s1", True), ("s2", True), ("s1", False)]
    await subscription.aclose()


@pytest.mark.asyncio
async def test_shared_annotations_are_kept_announced_bounded_and_deleted(store, monkeypatch):
    """A room's shared entries (selections by user, bookmarks by name): set, replaced and
    deleted with an event each that leaves seq alone; a new key past the limit fails whole;
    they go with the room."""
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    subscription = await store.subscribe("r")
    event = await store.set_shared("r", "selection", "alice", [3, 1])
    assert isinstance(event.pop("time"), float)  # when it was made
    assert event == {"type": "selection", "room": "r", "key": "alice", "value": [3, 1], "seq": 1}
    await store.set_shared("r", "selection", "bob", [])
    await store.set_shared("r", "selection", "alice", [2])
    await store.set_shared("r", "bookmark", "top", {"frame": 0, "camera": {"fov": 40}})
    assert await store.shared("r", "selection") == {"alice": [2], "bob": []}
    assert await store.shared("r", "bookmark") == {"top": {"frame": 0, "camera": {"fov": 40}}}
    deleted = await store.set_shared("r", "bookmark", "top", None)
    assert deleted["value"] is None and await store.shared("r", "bookmark") == {}
    seen = [await asyncio.wait_for(subscription.__anext__(), 5) for _ in range(5)]
    assert [(e["type"], e["key"], e["seq"]) for e in seen] == [
        ("selection", "alice", 1), ("selection", "bob", 1), ("selection", "alice", 1),
        ("bookmark", "top", 1), ("bookmark", "top", 1)]
    assert (await store.room_info("r")).seq == 1
    monkeypatch.setitem(SHARED_KINDS, "bookmark", 2)
    await store.set_shared("r", "bookmark", "one", {"frame": 0})
    await store.set_shared("r", "bookmark", "two", {"frame": 0})
    await store.set_shared("r", "bookmark", "two", {"frame": 0, "camera": None})  # replaced
    with fails(PayloadTooLarge, Failure.TOO_MANY):
        await store.set_shared("r", "bookmark", "three", {"frame": 0})
    assert sorted(await store.shared("r", "bookmark")) == ["one", "two"]
    with fails(NotFound, Failure.NO_ROOM):
        await store.set_shared("gone", "bookmark", "x", {"frame": 0})
    await store.delete_room("r")
    await store.create_room("r", [], [], 2.0)
    assert await store.shared("r", "selection") == {} == await store.shared("r", "bookmark")
    await subscription.aclose()


@pytest.mark.asyncio
async def test_two_deletes_of_one_shared_entry_change_it_once(store):
    """Two deletes of the same entry at once: one deletes it and is announced, the other
    finds nothing and says so (None, no event), as does deleting an entry never set."""
    await store.create_room("r", [], [], 1.0)
    await store.set_shared("r", "bookmark", "top", {"frame": 0, "camera": None})
    subscription = await store.subscribe("r")
    results = await asyncio.gather(*(store.set_shared("r", "bookmark", "top", None)
                                     for _ in range(2)))
    deleted = [event for event in results if event is not None]
    assert len(deleted) == 1 and deleted[0]["value"] is None
    assert await store.set_shared("r", "bookmark", "never", None) is None
    await store.set_shared("r", "selection", "marker", [])  # the events end here
    seen = []
    while not seen or seen[-1]["key"] != "marker":
        seen.append(await asyncio.wait_for(subscription.__anext__(), 5))
    assert [(e["type"], e["key"], e["value"]) for e in seen] == [
        ("bookmark", "top", None), ("selection", "marker", [])]
    await subscription.aclose()


@pytest.mark.asyncio
async def test_memory_store_keeps_shared_annotations_across_restarts(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await store.set_shared("r", "selection", "ann", [1, 2])
    await store.set_shared("r", "bookmark", "b", {"frame": 0, "camera": None})
    await store.close()
    again = MemoryStore(tmp_path)  # from the journal
    assert await again.shared("r", "selection") == {"ann": [1, 2]}
    again._snapshot()
    await again.close()
    snapshotted = MemoryStore(tmp_path)  # from the snapshot
    assert await snapshotted.shared("r", "bookmark") == {"b": {"frame": 0, "camera": None}}
    await snapshotted.close()


@pytest.mark.asyncio
async def test_presence_not_renewed_expires(store):
    """A session whose server died without a goodbye fades out of the room."""
    await store.create_room("r", [], [], 1.0)
    await store.presence("r", "kept", "alice")
    await store.presence("r", "ghost", "bob", ttl=0)
    subscription = await store.subscribe("r")
    await store.expire_leases()
    event = await asyncio.wait_for(subscription.__anext__(), 5)
    assert (event["type"], event["session"], event["present"]) == ("presence", "ghost", False)
    assert await store.presence("r", "kept", "alice") == [{"session": "kept", "user": "alice"}]
    await store.delete_room("r")
    await store.expire_leases()  # a deleted room's presences go quietly
    await subscription.aclose()


@pytest.mark.asyncio
async def test_a_repeated_key_gets_the_first_result_and_changes_nothing(store):
    await store.create_room("r", [], [], 1.0)
    first = await store.insert("r", items(0, "a", "b"), session="s", order_base=0,
                               key=Idempotency("k1", "d1"))
    again = await store.insert("r", items(0, "a", "b"), session="s", order_base=0,
                               key=Idempotency("k1", "d1"))
    assert (again.seq, again.order_version) == (first.seq, first.order_version)
    assert await ids(store) == ["id-a", "id-b"]
    assert await store.recall("r", Idempotency("k1", "d1")) == again
    assert await store.recall("r", Idempotency("k2", "d1")) is None
    with fails(KeyReused, Failure.KEY_REUSED):
        await store.insert("r", items(0, "c"), session="s", order_base=None,
                           key=Idempotency("k1", "another request"))
    with fails(KeyReused, Failure.KEY_REUSED):
        await store.recall("r", Idempotency("k1", "another request"))

    updated = await store.update("r", [("id-a", 1, "sha256:x", "seg/x")], session="s",
                                 key=Idempotency("k2", "d2"))
    repeated = await store.update("r", [("id-a", 1, "sha256:x", "seg/x")], session="s",
                                  key=Idempotency("k2", "d2"))
    assert repeated.versions == updated.versions == [2]
    assert repeated.seq == updated.seq
    deleted = await store.delete("r", ["id-b"], session="s", order_base=None,
                                 key=Idempotency("k3", "d3"))
    assert (await store.delete("r", ["id-b"], session="s", order_base=None,
                               key=Idempotency("k3", "d3"))).seq == deleted.seq
    assert await ids(store) == ["id-a"]
    assert (await store.room_info("r")).seq == deleted.seq  # three commits, no more

    failed = Idempotency("k4", "d4")  # a write that fails remembers nothing
    with fails(Conflict, Failure.ORDER_CHANGED):
        await store.insert("r", items(1, "c"), session="s", order_base=0, key=failed)
    assert await store.recall("r", failed) is None


@pytest.mark.asyncio
async def test_a_room_remembers_its_newest_keys(store):
    await store.create_room("r", [], [], 1.0)
    for k in range(REMEMBERED_KEYS + 1):
        await store.delete("r", [], session="s", order_base=None,
                           key=Idempotency(f"k{k}", "d"))
    assert await store.recall("r", Idempotency("k0", "d")) is None
    assert await store.recall("r", Idempotency("k1", "d")) is not None
    await store.delete_room("r")
    await store.create_room("r", [], [], 1.0)
    assert await store.recall("r", Idempotency(f"k{REMEMBERED_KEYS}", "d")) is None


@pytest.mark.asyncio
async def test_a_dead_process_loses_its_sessions_leases_and_presence(store):
    await store.create_room("r", [], [], 1.0)
    await store.heartbeat("alive", 60)
    await store.heartbeat("dead", 60)
    await store.attach("dead", "ghost")
    await store.attach("dead", "moved")
    await store.attach("alive", "moved")  # it reconnected to another process
    await store.attach("alive", "kept")
    await store.attach("dead", "left")
    await store.detach("dead", "left")  # its connection closed cleanly
    for session in ("ghost", "moved", "kept", "left"):
        await store.presence("r", session, "user")
    await store.acquire("r", ORDER, "ghost", 60)
    await store.acquire("r", PRESENTER, "moved", 60)
    subscription = await store.subscribe("r")
    assert await store.expire_processes("alive") == []
    await store.heartbeat("dead", 0)  # it stops renewing
    await store.heartbeat("alive", 0)  # busy: but it is the one sweeping
    assert await store.expire_processes("alive") == ["dead"]
    assert await store.expire_processes("alive") == []
    events = [await asyncio.wait_for(subscription.__anext__(), 5) for _ in range(2)]
    assert {(e["type"], e.get("holder", e.get("session"))) for e in events} == {
        ("lease", None), ("presence", "ghost")}
    lease = next(e for e in events if e["type"] == "lease")
    assert (lease["target"], lease["expired"]) == (ORDER, "ghost")
    assert [(lease.target, lease.holder) for lease in await store.leases("r")] == [
        (PRESENTER, "moved")]
    present = await store.presence("r", "kept", "user")
    assert sorted(p["session"] for p in present) == ["kept", "left", "moved"]
    await subscription.aclose()


# -- Redis only ----------------------------------------------------------------------------
REDIS_AOF = ("--appendonly", "yes", "--appendfsync", "always")


@pytest.mark.asyncio
async def test_redis_aof_keeps_acknowledged_state_across_sigkill(tmp_path):
    from zndraw_widget.state.redis import RedisStore

    process, url = start_redis(tmp_path, *REDIS_AOF)
    try:
        store = RedisStore(url)
        await store.create_room("r", [], [], 1.5)
        await store.insert("r", items(0, "a", "b", "c"), session="s", order_base=0)
        await store.update("r", [("id-b", 1, "sha256:b2", "seg/b2")], session="s")
        await store.delete("r", ["id-c"], session="s", order_base=1)
        await store.set_default_room("r")
        await store.acquire("r", PRESENTER, "alice", 60)
        await store.set_step("r", 1, "alice")
        process.kill()  # no shutdown, no final save: only what the AOF holds survives
        process.wait()
        await store.close()
        process, url = start_redis(tmp_path, *REDIS_AOF)
        again = RedisStore(url)
        refs_ = (await again.resolve("r", ALL)).refs
        assert [(r.id, r.version, r.hash, r.location) for r in refs_] == [
            ("id-a", 1, "sha256:a", "seg/a"), ("id-b", 2, "sha256:b2", "seg/b2")]
        info = await again.room_info("r")
        assert (info.seq, info.order_version, info.step, info.created) == (3, 2, 1, 1.5)
        assert await again.get_default_room() == "r"
        assert [e["type"] for e in await again.events_since("r", 0)] == [
            "frames_inserted", "frame_updated", "frames_deleted"]
        assert await again.frame_history("r", "id-b") == [
            {"version": 1, "hash": "sha256:b"}, {"version": 2, "hash": "sha256:b2"}]
        assert await again.locations(["sha256:b2"]) == {"sha256:b2": "seg/b2"}
        assert [(lease.target, lease.holder) for lease in await again.leases("r")] == [
            (PRESENTER, "alice")]
        assert await again.pop_record("r", "s", "undo") == {
            "op": "insert", "items": [[2, "id-c", 1, "sha256:c", "seg/c"]]}
        await again.close()
    finally:
        process.kill()
        process.wait()


@pytest.mark.asyncio
async def test_two_redis_stores_share_state_and_events(redis_url, tmp_path):
    from zndraw_widget.state.redis import RedisStore

    prefix = f"shared-{tmp_path.name}:"  # two processes of one deployment share the prefix
    one, two = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    try:
        await one.create_room("r", [], [], 1.0)
        heard_by_two = await two.subscribe("r")
        heard_by_one = await one.subscribe("r")
        commit = await one.insert("r", items(0, "a", "b"), session="s1", order_base=0)
        assert await ids(two) == ["id-a", "id-b"]
        assert await asyncio.wait_for(heard_by_two.__anext__(), 5) == commit.events[0]

        await two.acquire("r", ORDER, "s2", 10)
        with fails(Locked, Failure.LOCKED) as error:
            await one.insert("r", items(2, "c"), session="s1", order_base=1)
        assert error.value.holder == "s2"
        commit = await two.update("r", [("id-a", 1, "h2", "l2")], session="s2")
        with fails(Conflict, Failure.FRAME_VERSION) as error:
            await one.update("r", [("id-a", 1, "h3", "l3")], session="s1")
        assert error.value.current_version == 2
        await one.publish("r", {"type": "hello"})
        heard = [await asyncio.wait_for(heard_by_one.__anext__(), 5) for _ in range(4)]
        assert [e["type"] for e in heard] == ["frames_inserted", "lease", "frame_updated", "hello"]
        assert heard[2] == commit.events[0] and heard[3]["seq"] == 2

        # Both processes sweep: each expired lease is reported once.
        await one.acquire("r", PRESENTER, "s1", 0)
        swept = await asyncio.gather(one.expire_leases(), two.expire_leases())
        assert sorted(len(leases) for leases in swept) == [0, 1]
        await heard_by_one.aclose()
        await heard_by_two.aclose()
    finally:
        await one.close()
        await two.close()


@pytest.mark.asyncio
async def test_live_segments_and_forgetting_hashes(store):
    def ref(name: str, segment: str) -> FrameRef:
        return FrameRef(f"id-{name}", 1, f"sha256:{name}", f"{segment}/0")

    await store.create_room("r", [], [], 1.0)
    await store.insert("r", [(0, ref("a", "s1")), (1, ref("b", "s2"))], session="s",
                       order_base=0)
    await store.update("r", [("id-a", 1, "sha256:a2", "s3/4")], session="s")
    await store.delete("r", ["id-b"], session="s", order_base=1)
    # s1: a's old version (history); s2: b, deleted but restorable by undo; s3: a now.
    assert await store.live_segments() == {"s1", "s2", "s3"}
    await store.create_room("gone", [], [], 1.0)
    await store.insert("gone", [(0, ref("c", "s4"))], session="s", order_base=0)
    await store.delete_room("gone")
    assert "s4" not in await store.live_segments()
    await store.forget_segments({"s4", "s9"})
    assert await store.locations(["sha256:c", "sha256:a"]) == {"sha256:a": "s1/0"}


@pytest.mark.asyncio
async def test_hub_renews_the_presence_of_its_sessions(store):
    from zndraw_widget.hub import Hub

    await store.create_room("r", [], [], 1.0)
    hub = Hub(store, "this-process")
    await hub.present("r", "live", "alice")
    await store.presence("r", "live", "alice", ttl=0)  # as if about to expire
    await hub.renew_presence()
    await store.expire_leases()
    present = await store.presence("r", "probe", "bob")
    assert sorted(p["session"] for p in present) == ["live", "probe"]
    await hub.present("r", "live", None)  # left: no longer renewed
    await hub.renew_presence()
    assert await store.presence("r", "probe", "bob") == [{"session": "probe", "user": "bob"}]
    await hub.close()


@pytest.mark.asyncio
async def test_hub_fanout_latency_counts_from_the_commit_not_from_receipt(store, monkeypatch):
    from zndraw_widget.hub import Hub
    from zndraw_widget.metrics import Metrics
    from zndraw_widget.state.base import Subscription

    held = 0.0

    class Late(Subscription):
        """The event loop is busy between a commit and the hub hearing of it."""

        def __init__(self, feed: Subscription) -> None:
            self.feed = feed

        async def __anext__(self) -> dict:
            nonlocal held
            event = await anext(self.feed)
            start = time.perf_counter()
            time.sleep(0.05)
            held = time.perf_counter() - start
            return event

        async def aclose(self) -> None:
            await self.feed.aclose()

    subscribe = store.subscribe

    async def late(room: str) -> Subscription:
        return Late(await subscribe(room))

    monkeypatch.setattr(store, "subscribe", late)
    await store.create_room("r", [], [], 1.0)
    metrics = Metrics()
    hub = Hub(store, "this-process", metrics)
    heard = asyncio.Event()
    await hub.join("r", lambda event, packed: heard.set())
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    await asyncio.wait_for(heard.wait(), 5)
    assert metrics.registry.get_sample_value("zndraw_event_fanout_seconds_count") == 1
    assert metrics.registry.get_sample_value("zndraw_event_fanout_seconds_sum") >= held - 0.001
    await hub.close()


# -- splice: one atomic change of any shape ---------------------------------------------------
async def _replay(store, room: str, session: str, stack: str):
    """Apply the top record of ``stack`` as RoomService does (a splice record)."""
    record = await store.pop_record(room, session, stack)
    assert record["op"] == "splice"
    return await store.splice(
        room, record["delete"],
        [(i, FrameRef(fid, v + 1, h, loc)) for i, fid, v, h, loc in record["insert"]],
        [tuple(c) for c in record["update"]], session=session, order_base=None, record=stack)


@pytest.mark.asyncio
async def test_splice_is_one_change_and_one_undo(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b", "c", "d"), session="s", order_base=0)
    events = await store.subscribe("r")
    new = refs("x", version=1)[0]
    commit = await store.splice(
        "r", ["id-b", "id-d"], [(0, new)], [("id-c", 1, "sha256:c2", "seg/c2")],
        session="s", order_base=1)
    assert await ids(store) == ["id-x", "id-a", "id-c"]
    assert commit.order_version == 2 and commit.versions == [2] and len(commit.events) == 1
    event = await asyncio.wait_for(events.__anext__(), 5)
    await events.aclose()
    assert event["type"] == "frames_spliced" and event["seq"] == commit.seq == 2
    assert (event["deleted"], event["inserted"], event["updated"]) == ([1, 3], [0], [2])
    assert (event["deleted_ids"], event["length"]) == (["id-b", "id-d"], 3)
    assert (await store.resolve("r", [2])).refs[0].hash == "sha256:c2"
    await _replay(store, "r", "s", "undo")  # one record reverts all of it
    assert await ids(store) == ["id-a", "id-b", "id-c", "id-d"]
    assert (await store.resolve("r", [2])).refs[0].hash == "sha256:c"
    await _replay(store, "r", "s", "redo")
    assert await ids(store) == ["id-x", "id-a", "id-c"]
    assert (await store.room_info("r")).seq == 4


@pytest.mark.asyncio
async def test_a_repeated_splice_key_gets_the_first_result(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b"), session="s", order_base=0)
    key = Idempotency("k", "d")
    change = ("r", ["id-a"], [(1, refs("x", version=1)[0])], [("id-b", 1, "sha256:b2", "seg/b2")])
    first = await store.splice(*change, session="s", order_base=1, key=key)
    again = await store.splice(*change, session="s", order_base=1, key=key)
    assert again.repeated and not again.events
    assert (again.seq, again.order_version, again.versions) == (
        first.seq, first.order_version, first.versions) == (first.seq, 2, [2])
    assert await ids(store) == ["id-b", "id-x"]
    assert (await store.room_info("r")).seq == first.seq
    with fails(KeyReused, Failure.KEY_REUSED):
        await store.splice("r", ["id-b"], [], [], session="s", order_base=None,
                           key=Idempotency("k", "another"))


@pytest.mark.asyncio
async def test_splice_moves_frames_and_fails_whole(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b", "c"), session="s", order_base=0)
    resolved = await store.resolve("r", ALL)
    moved = [(k, ref) for k, ref in enumerate(reversed(resolved.refs))]
    await store.splice("r", [r.id for r in resolved.refs], moved, [], session="s",
                       order_base=1)
    assert await ids(store) == ["id-c", "id-b", "id-a"]
    before = await store.room_info("r")
    with fails(Conflict, Failure.ORDER_CHANGED):
        await store.splice("r", ["id-a"], [], [], session="s", order_base=1)
    with fails(Conflict, Failure.FRAMES_MISSING):
        await store.splice("r", ["id-zz"], [], [], session="s", order_base=None)
    with fails(BadRequest, Failure.SPLICE_OVERLAP):
        await store.splice("r", ["id-a"], [], [("id-a", 1, "h", "seg/h")], session="s",
                           order_base=None)
    with fails(Conflict, Failure.FRAME_VERSION):
        await store.splice("r", ["id-a"], [], [("id-b", 7, "h", "seg/h")], session="s",
                           order_base=None)
    with fails(IndexError, Failure.INSERT_POSITION):
        await store.splice("r", ["id-a"], items(3, "y"), [], session="s", order_base=None)
    with fails(BadRequest, Failure.FRAME_EXISTS):
        await store.splice("r", [], [(0, refs("b")[0])], [], session="s", order_base=None)
    await store.acquire("r", ORDER, "other", 10)
    with fails(Locked, Failure.LOCKED):
        await store.splice("r", ["id-a"], [], [], session="s", order_base=None)
    assert await store.room_info("r") == before and await ids(store) == ["id-c", "id-b", "id-a"]


@pytest.mark.asyncio
async def test_an_undo_group_merges_the_records_of_several_commits(store):
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    for k, name in enumerate(["b", "c", "d"]):
        await store.splice("r", [], items(1 + k, name), [], session="s", order_base=None,
                           group="g1")
    await store.splice("r", [], items(4, "e"), [], session="s", order_base=None, group="g2")
    await _replay(store, "r", "s", "undo")
    assert await ids(store) == ["id-a", "id-b", "id-c", "id-d"]
    await _replay(store, "r", "s", "undo")  # the three commits of g1 at once
    assert await ids(store) == ["id-a"]
    await _replay(store, "r", "s", "redo")
    assert await ids(store) == ["id-a", "id-b", "id-c", "id-d"]


@pytest.mark.asyncio
async def test_room_fields_and_ephemeral_rooms_expire(store):
    await store.create_room("kept", [], [], 1.0)
    await store.create_room("gone", [], [], 1.0)
    await store.create_room("seen", [], [], 1.0)
    info = await store.set_room_fields("kept", {"description": "my data"})
    assert (info.description, info.expires) == ("my data", None)
    for name in ("gone", "seen", "kept"):
        await store.set_room_fields(name, {"expires": 100.0})
    await store.set_room_fields("kept", {"expires": None})  # kept after all
    await store.presence("seen", "viewer", "alice")
    assert await store.expire_rooms(50.0, 10.0) == []
    assert await store.expire_rooms(200.0, 10.0) == ["gone"]
    assert (await store.room_info("seen")).expires == 210.0  # extended while present
    _, rooms = await store.list_rooms(0, 10)
    assert {r.name: (r.description, r.expires) for r in rooms} == {
        "gone": ("", 100.0), "kept": ("my data", None), "seen": ("", 210.0)}
    await store.delete_room("gone")
    await store.presence("seen", "viewer", None)
    assert await store.expire_rooms(300.0, 10.0) == ["seen"]


async def _fill_for_export(store) -> None:
    """Two rooms with inserts, an update, a delete, undo records, a default room."""
    await store.create_room("r", [], [], 1.5)
    await store.insert("r", items(0, "a", "b", "c"), session="s:1", order_base=0)
    await store.update("r", [("id-b", 1, "sha256:b2", "seg2/0")], session="s:1")
    await store.delete("r", ["id-c"], session="s:2", order_base=1)
    await store.create_room("q", (await store.resolve("r", ALL)).refs, ["n1", "n2"], 2.5)
    await store.set_room_fields("q", {"description": "a copy", "expires": 99.5})
    await store.set_default_room("q")
    await store.set_shared("r", "selection", "alice", [1, 2])
    await store.set_shared("r", "bookmark", "start", {"frame": 0, "camera": None})


@pytest.mark.asyncio
async def test_export_import_round_trip(store, store_kind, tmp_path, request):
    await _fill_for_export(store)
    state = await store.export_state()
    r = {room["name"]: room for room in state["rooms"]}["r"]
    assert r["order"] == ["id-a", "id-b"] and (r["seq"], r["order_version"]) == (3, 2)
    assert r["history"]["id-b"] == [[1, "sha256:b", "seg/b"], [2, "sha256:b2", "seg2/0"]]
    assert len(r["records"]["s:1"]["undo"]) == 2 and len(r["records"]["s:2"]["undo"]) == 1
    assert [e["seq"] for e in r["events"]] == [1, 2, 3] and r["created"] == 1.5
    assert state["default"] == "q" and state["hashes"]["sha256:b2"] == "seg2/0"
    assert r["shared"] == {"selection": {"alice": [1, 2]},
                           "bookmark": {"start": {"frame": 0, "camera": None}}}

    url = request.getfixturevalue("redis_url") if store_kind == "redis" else None
    for kind in {store_kind, "memory"}:  # the same kind and the embedded one
        fresh = await make_store(kind, tmp_path / "fresh", url)
        if kind == "redis":
            fresh.prefix = f"fresh-{tmp_path.name}:"
        await fresh.import_state(state)
        assert await fresh.export_state() == state
        with fails(AlreadyExists, Failure.NOT_EMPTY):
            await fresh.import_state(state)
        # the imported rooms work: history, undo, events, new writes
        assert [h["version"] for h in await fresh.frame_history("r", "id-b")] == [1, 2]
        assert (await fresh.events_since("r", 1))[0]["seq"] == 2
        assert (await fresh.pop_record("r", "s:2", "undo"))["op"] == "insert"
        commit = await fresh.insert("r", items(2, "d"), session="s", order_base=2)
        assert (commit.seq, commit.order_version) == (4, 3)
        q = await fresh.room_info("q")
        assert (q.description, q.expires) == ("a copy", 99.5)
        assert await fresh.expire_rooms(100.0, 10.0) == ["q"]  # still ephemeral
        assert await fresh.shared("r", "selection") == {"alice": [1, 2]}
        await fresh.close()
    if store_kind == "memory-persisted":  # the import was journaled: a reopen has it
        reopened = MemoryStore(tmp_path / "fresh" / "state")
        assert await ids(reopened, "q") == ["n1", "n2"]
        await reopened.close()


@pytest.mark.asyncio
async def test_snapshot_of_a_store_in_use(tmp_path):
    """A backup reads the embedded store's files while its server keeps the lock."""
    live = MemoryStore(tmp_path / "state")
    await _fill_for_export(live)
    copy = MemoryStore.snapshot_of(tmp_path / "state")
    assert await copy.export_state() == await live.export_state()
    await live.close()


@pytest.mark.asyncio
async def test_a_journal_from_before_the_snapshot_is_not_replayed(tmp_path):
    """The process died after writing a snapshot but before emptying the journal (or a
    backup read the files in between): the old journal's changes are in the snapshot once."""
    path = tmp_path / "state"
    live = MemoryStore(path)
    await _fill_for_export(live)
    stale = (path / "state.journal").read_bytes()
    live._snapshot()  # compaction: every change is now in the snapshot
    expected = await live.export_state()
    await live.close()
    (path / "state.journal").write_bytes(stale)  # as if it had not been emptied
    assert await MemoryStore.snapshot_of(path).export_state() == expected
    reopened = MemoryStore(path)
    assert await reopened.export_state() == expected
    await reopened.insert("r", items(2, "z"), session="s", order_base=2)  # journaled anew
    await reopened.close()
    again = MemoryStore(path)
    assert await ids(again) == ["id-a", "id-b", "id-z"]
    await again.close()
