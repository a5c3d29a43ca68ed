"""Every list operation of ``Room`` is one atomic change: one commit, one undo, never seen
half-done by another client; and the rooms themselves: listing, copies, descriptions,
ephemeral rooms."""

from __future__ import annotations

import random
import threading
import time

import pytest

from zndraw_widget import Room, RoomNotFoundError, rooms
from zndraw_widget.errors import AlreadyExists

from ..conftest import ServerProcess, tagged, tags
from .list_ops import outcome, random_operation

pytestmark = pytest.mark.usefixtures("no_ambient_server")


#: Every writing list operation (clear now and then).
WRITE_KINDS = ("append", "insert", "extend", "set", "set_slice", "set_slice", "set_ext",
               "set_list", "set_list", "del", "del_slice", "del_ext", "pop", "reverse")


class Observer(threading.Thread):
    """Reads the whole room through its own client as fast as it can, recording every
    state it sees, until stopped."""

    def __init__(self, room: Room) -> None:
        super().__init__(daemon=True)
        self.room = room
        self.seen: set[tuple[int, ...]] = set()
        self.reads = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.seen.add(tuple(tags(self.room[:])))
            self.reads += 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_operation_matches_a_list_and_is_one_change_undone_at_once(connect, seed):
    check_operations(connect, seed, steps=70)


def test_every_operation_is_one_change_on_a_server_sharing_redis(tmp_path, own_redis):
    server = ServerProcess(tmp_path, env={"ZNDRAW_REDIS_URL": own_redis})
    opened = []

    def connect(name):
        opened.append(Room(name, url=server.base, token=server.token, create=True))
        return opened[-1]

    try:
        check_operations(connect, 3, steps=40)
    finally:
        for room in opened:
            room.close()
        server.stop()


def check_operations(connect, seed: int, steps: int) -> None:
    """``steps`` random writes to a room and a list agree; each is at most one commit, one
    undo reverts it and one redo restores it; a second client reading all along never sees
    a state no operation left."""
    rng = random.Random(seed)
    room, model = connect(f"ops-{seed}"), []
    counter = iter(range(10**6))
    states = {()}

    def new():
        return tagged(next(counter), natoms=rng.randint(1, 3))

    observer = Observer(connect(f"ops-{seed}"))
    observer.start()
    try:
        for step in range(steps):
            kinds = WRITE_KINDS + (("clear",) if rng.random() < 0.2 else ("set_slice",))
            what, function = random_operation(rng, len(model), new, kinds, [2, -1, -2, 3])
            before, seq = list(model), room.info()["seq"]
            expected = outcome(function, model)
            got = outcome(function, room)
            assert got == expected, f"step {step}: {what}"
            states.add(tuple(tags(model)))
            assert tags(room[:]) == tags(model), f"step {step}: {what}"
            commits = room.info()["seq"] - seq  # one data change: one commit, one event
            assert commits == 1 if tags(model) != tags(before) else commits <= 1, \
                f"step {step}: {what} took {commits} commits"
            if commits:  # one undo reverts it, one redo brings it back
                room.undo()
                assert tags(room[:]) == tags(before), f"step {step}: undo {what}"
                room.redo()
                assert tags(room[:]) == tags(model), f"step {step}: redo {what}"
    finally:
        observer.stop.set()
        observer.join(30)
    assert observer.reads > 0
    half_done = observer.seen - states
    assert not half_done, f"another client saw states no operation left: {half_done}"


def test_assigning_to_a_list_of_indices_is_element_wise(connect):
    room = connect()
    room.extend([tagged(k) for k in range(5)])
    room[[4, 0, -2]] = [tagged(10), tagged(11), tagged(12)]
    assert tags(room) == [11, 1, 2, 12, 10]
    room[[1, 1]] = [tagged(20), tagged(21)]  # as numpy: the last one wins
    assert tags(room) == [11, 21, 2, 12, 10]
    with pytest.raises(ValueError):
        room[[0, 1]] = [tagged(30)]
    with pytest.raises(IndexError):
        room[[0, 5]] = [tagged(30), tagged(31)]
    assert tags(room) == [11, 21, 2, 12, 10]


def test_an_extend_of_many_commits_is_undone_at_once(connect):
    room = connect(batch_bytes=1)  # one frame per request
    room.append(tagged(0))
    seq = room.info()["seq"]
    room.extend([tagged(k) for k in range(1, 6)])
    assert room.info()["seq"] - seq == 5 and tags(room) == [0, 1, 2, 3, 4, 5]
    room.undo()
    assert tags(room) == [0]
    room.redo()
    assert tags(room) == [0, 1, 2, 3, 4, 5]
    room.undo()
    room.undo()
    assert len(room) == 0


def test_the_shown_frame_as_atoms(connect):
    room = connect()
    room.atoms = tagged(0)  # an empty room: it becomes the first frame
    room.extend([tagged(1), tagged(2)])
    room.step = 2
    assert tags([room.atoms]) == [2]
    room.atoms = tagged(7)
    assert tags(room) == [0, 1, 7]


def test_rooms_are_listed_copied_described_and_deleted(connect, server):
    with pytest.raises(RoomNotFoundError, match="does not exist"):
        connect("never-made", create=False)
    room = Room.create("original", url=server.base, token=server.token,
                       description="first run")
    try:
        room.extend([tagged(0), tagged(1)])
        with pytest.raises(AlreadyExists):
            Room.create("original", url=server.base, token=server.token)
        assert room.description == "first run"
        room.description = "first run, checked"
        copy = room.copy("copied", description="a copy")
        assert tags(copy) == [0, 1] and copy.description == "a copy"
        listed = {r["name"]: r for r in rooms(url=server.base, token=server.token)}
        assert listed["original"]["description"] == "first run, checked"
        assert listed["original"]["length"] == 2 and listed["copied"]["length"] == 2
        assert listed["original"]["ephemeral"] is False
        assert set(listed["original"]) == {"name", "length", "owner", "created",
                                           "description", "ephemeral"}
        copy.delete()
        assert "copied" not in {r["name"] for r in rooms(url=server.base, token=server.token)}
        assert tags(room) == [0, 1]  # the original keeps its frames
    finally:
        room.close()


def test_ephemeral_rooms_expire_unless_kept(tmp_path):
    # 5 s: long enough that a loaded machine creates, fills and keeps the rooms in time
    server = ServerProcess(tmp_path, "--ephemeral-ttl", "5")
    try:
        def names() -> set[str]:
            return {r["name"] for r in rooms(url=server.base, token=server.token)}

        opened = {name: Room.create(name, url=server.base, token=server.token,
                                    ephemeral=True) for name in ("passing", "kept")}
        for room in opened.values():
            room.append(tagged(0))
        opened["kept"].keep()
        listed = {r["name"]: r["ephemeral"] for r in rooms(url=server.base, token=server.token)}
        assert listed == {"passing": True, "kept": False}
        for room in opened.values():
            room.close()
        deadline = time.monotonic() + 60
        while "passing" in names():  # the server's sweep deletes it
            assert time.monotonic() < deadline, "the ephemeral room was never deleted"
            time.sleep(0.1)
        assert names() == {"kept"}
    finally:
        server.stop()
