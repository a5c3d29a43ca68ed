"""The MemoryStore's journal: a record is durable before its change is applied, a change
the disk cannot take changes nothing, and snapshots bound what a restart replays."""

from __future__ import annotations

import asyncio
import errno
import os
import threading

import pytest

from zndraw_widget.errors import InsufficientStorage, Locked, Unavailable
from zndraw_widget.state import memory
from zndraw_widget.state.base import ORDER, FrameRef, SliceSpec
from zndraw_widget.state.memory import MemoryStore

ALL = SliceSpec(None, None, None)


def items(start: int, *names: str) -> list[tuple[int, FrameRef]]:
    return [(start + k, FrameRef(f"id-{n}", 1, f"sha256:{n}", f"seg/{n}"))
            for k, n in enumerate(names)]


async def state_of(store: MemoryStore, room: str = "r") -> tuple:
    info = await store.room_info(room)
    ids = [ref.id for ref in (await store.resolve(room, ALL)).refs]
    return ids, info.length, info.seq, info.order_version


def disk_full_after(monkeypatch, written: int) -> None:
    """The next journal write stores ``written`` bytes, then the disk is full."""
    real_write = os.write

    def write(fd, data):
        if len(data) > written:
            real_write(fd, bytes(data[:written]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write)


@pytest.mark.asyncio
async def test_a_change_the_journal_cannot_take_changes_nothing(tmp_path, monkeypatch):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a"), session="s", order_base=0)
    subscription = await store.subscribe("r")
    before = await state_of(store)
    journal_size = (tmp_path / "state.journal").stat().st_size
    with monkeypatch.context() as patch:
        disk_full_after(patch, 7)  # a torn record, as a real full disk leaves
        with pytest.raises(InsufficientStorage):
            await store.insert("r", items(1, "b"), session="s", order_base=1)
    assert await state_of(store) == before
    assert subscription.queue.empty()
    assert (tmp_path / "state.journal").stat().st_size == journal_size
    assert await store.pop_record("r", "s", "undo") is not None  # the record of "a" only
    assert await store.pop_record("r", "s", "undo") is None
    commit = await store.insert("r", items(1, "c"), session="s", order_base=1)
    assert commit.seq == before[2] + 1  # the refused change used no seq
    after = await state_of(store)
    await store.close()
    again = MemoryStore(tmp_path)
    assert await state_of(again) == after == (["id-a", "id-c"], 2, 2, 2)
    await again.close()


@pytest.mark.asyncio
async def test_a_journal_already_in_the_snapshot_is_not_replayed(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b"), session="s", order_base=0)
    journal = (tmp_path / "state.journal").read_bytes()
    store._snapshot()
    expected = await state_of(store)
    await store.close()
    # The process stopped after writing the snapshot, before emptying the journal.
    (tmp_path / "state.journal").write_bytes(journal)
    again = MemoryStore(tmp_path)
    assert await state_of(again) == expected == (["id-a", "id-b"], 2, 1, 1)
    await again.insert("r", items(2, "c"), session="s", order_base=1)
    await again.close()
    last = MemoryStore(tmp_path)
    assert await state_of(last) == (["id-a", "id-b", "id-c"], 3, 2, 2)
    await last.close()


async def fill(tmp_path, count: int) -> MemoryStore:
    """A store on ``tmp_path`` whose room has ``count`` frames, inserted one by one."""
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    for k in range(count):
        await store.insert("r", items(k, f"f{k}"), session="s", order_base=k)
    return store


async def reopened_state(store: MemoryStore, path) -> tuple:
    expected = await state_of(store)
    await store.close()
    again = MemoryStore(path)
    assert await state_of(again) == expected
    await again.close()
    return expected


@pytest.mark.asyncio
async def test_the_journal_is_snapshot_when_it_grows_to_the_snapshots_size(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "SNAPSHOT_MIN_BYTES", 0)
    store = await fill(tmp_path, 40)
    snapshot = (tmp_path / "state.snapshot").stat().st_size
    assert 0 < store._journal.size <= snapshot // memory.SNAPSHOT_SHARE
    assert (await reopened_state(store, tmp_path))[1] == 40


@pytest.mark.asyncio
async def test_the_journal_is_snapshot_when_old(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "SNAPSHOT_AGE", 0)
    store = await fill(tmp_path, 5)
    assert store._journal.records == 0  # each commit was taken into a snapshot
    assert (await reopened_state(store, tmp_path))[1] == 5


@pytest.mark.asyncio
async def test_a_snapshot_restores_history_and_hashes_exactly(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await store.insert("r", items(0, "a", "b", "c", "d"), session="s", order_base=0)
    await store.update("r", [("id-b", 1, "sha256:b2", "new/0")], session="s")
    await store.delete("r", ["id-c"], session="s", order_base=1)
    await store.forget_segments({"seg/d"})  # a current frame's hash forgotten
    await store.create_room("copy", [(await store.resolve("r", [0])).refs[0]], ["id-x"], 2.0)
    store._snapshot()
    expected = await store.export_state()  # hashes, frames and history of every room
    assert expected["hashes"] == {"sha256:a": "seg/a", "sha256:b": "seg/b", "sha256:c": "seg/c",
                                  "sha256:d": "seg/d", "sha256:b2": "new/0"}
    await store.close()
    again = MemoryStore(tmp_path)
    assert again._journal.records == 0
    assert await again.export_state() == expected
    await again.close()


@pytest.mark.asyncio
async def test_splices_and_room_fields_survive_a_snapshot_and_a_replay(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await store.set_room_fields("r", {"description": "kept", "expires": 5.0})
    await store.splice("r", [], [(0, FrameRef("a", 1, "ha", "seg/0"))], [], session="s",
                       order_base=0)
    store._snapshot()
    await store.splice("r", ["a"], [(0, FrameRef("b", 1, "hb", "seg/1"))], [], session="s",
                       order_base=1)
    await store.close()
    again = MemoryStore(tmp_path)
    info = await again.room_info("r")
    assert (info.description, info.expires, info.length, info.order_version) == (
        "kept", 5.0, 1, 2)
    assert [r.id for r in (await again.resolve("r", [0])).refs] == ["b"]
    assert (await again.pop_record("r", "s", "undo"))["insert"][0][1] == "a"
    await again.close()


class HeldFsync:
    """``os.fsync`` of the journal held until :meth:`release`, noting the threads it ran in."""

    def __init__(self, monkeypatch, store: MemoryStore) -> None:
        self.fd, self.threads = store._journal._fd, []
        self.started, self.released = threading.Event(), threading.Event()
        real = os.fsync

        def fsync(fd: int) -> None:
            if fd == self.fd:
                self.threads.append(threading.current_thread())
                self.started.set()
                self.released.wait(10)
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    async def wait_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, 10)

    def release(self) -> None:
        self.released.set()


@pytest.mark.asyncio
async def test_the_fsync_leaves_the_event_loop_free_and_changes_in_order(tmp_path, monkeypatch):
    """While a change's record is fsync'd (in the journal's thread) the loop serves reads,
    which do not see the change yet, and leases (not journalled: not held up); the next
    change waits for it and sees it, and the lease."""
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    held = HeldFsync(monkeypatch, store)
    first = asyncio.create_task(store.insert("r", items(0, "a"), session="s", order_base=0))
    await held.wait_started()
    assert await state_of(store) == ([], 0, 0, 0)  # not applied before it is durable
    again = asyncio.create_task(store.insert("r", items(0, "a"), session="s", order_base=None))
    await store.acquire("r", ORDER, "other", 60)  # at once: a lease waits for no change
    await asyncio.sleep(0)  # one turn of the loop: the second change starts, and waits
    assert not again.done()
    held.release()
    assert (await first).order_version == 1  # checked before the lease: applied
    with pytest.raises(Locked):  # checked after the first change, and the lease
        await again
    assert held.threads and threading.main_thread() not in held.threads
    assert await store.release_all("other")  # the session's lease, gone with it
    assert await reopened_state(store, tmp_path) == (["id-a"], 1, 1, 1)


@pytest.mark.asyncio
async def test_a_change_waiting_behind_close_is_refused(tmp_path, monkeypatch):
    """A change that waited for the lock while the store closed is refused (it would be
    applied in memory and never journalled), and the reopened store has what was said."""
    store = MemoryStore(tmp_path)
    await store.create_room("a", [], [], 1.0)
    held = HeldFsync(monkeypatch, store)
    first = asyncio.create_task(store.create_room("b", [], [], 1.0))
    await held.wait_started()
    closing = asyncio.create_task(store.close())
    late = asyncio.create_task(store.create_room("c", [], [], 1.0))
    await asyncio.sleep(0)
    held.release()
    await first
    await closing
    with pytest.raises(Unavailable, match="closed"):
        await late
    await store.close()  # again: nothing to do
    again = MemoryStore(tmp_path)
    assert [info.name for info in (await again.list_rooms(0, 10))[1]] == ["a", "b"]
    await again.close()


@pytest.mark.asyncio
async def test_a_change_whose_caller_is_cancelled_is_finished(tmp_path, monkeypatch):
    """A caller cancelled while its record is fsync'd: the change is still applied, as the
    journal has it (memory and journal never part)."""
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    held = HeldFsync(monkeypatch, store)
    change = asyncio.create_task(store.insert("r", items(0, "a"), session="s", order_base=0))
    await held.wait_started()
    change.cancel()
    held.release()
    with pytest.raises(asyncio.CancelledError):
        await change
    await store.set_default_room("r")  # a change: runs after the cancelled one finished
    assert await reopened_state(store, tmp_path) == (["id-a"], 1, 1, 1)


@pytest.mark.asyncio
async def test_concurrent_changes_are_journalled_in_the_order_applied(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    await asyncio.gather(*(store.insert("r", items(0, f"f{k}"), session="s", order_base=None)
                           for k in range(20)))
    ids, *_ = await reopened_state(store, tmp_path)
    assert sorted(ids) == sorted(f"id-f{k}" for k in range(20))
