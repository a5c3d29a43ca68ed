"""The room service asks its policy before every operation, with the caller, the action
and the room."""

from __future__ import annotations

import inspect

import pytest
import pytest_asyncio

from zndraw_widget.caller import Caller
from zndraw_widget.errors import Forbidden
from zndraw_widget.frames import FrameBatch
from zndraw_widget.policy import Action, AllowAll
from zndraw_widget.rooms import RoomService
from zndraw_widget.state import MemoryStore
from zndraw_widget.state.base import ORDER
from zndraw_widget.storage import ZarrProvider

from .conftest import make_atoms

ALICE = Caller("alice", frozenset({"lab"}), "s")
BOB = Caller("bob", frozenset(), "b")

# Not a caller's operation: the server's own maintenance of unreferenced stored data, and
# its health check of the state backend.
MAINTENANCE = {"reclaim", "ping"}


class DenyAll:
    """Refuses everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[Caller, Action, str | None]] = []

    async def check(self, caller: Caller, action: Action, room: str | None) -> None:
        self.asked.append((caller, action, room))
        raise Forbidden(f"{caller.user} may not {action.value} {room}")


def batch(seed: int = 0) -> FrameBatch:
    return FrameBatch.from_atoms(make_atoms(1, seed=seed))


# method: (arguments after the caller, the action and room the policy is asked about first)
OPERATIONS = {
    "create_room": (("new", None), Action.CREATE, "new"),
    "room_info": (("r",), Action.READ, "r"),
    "delete_room": (("r",), Action.ADMIN, "r"),
    "list_rooms": ((0, 10), Action.LIST, None),
    "get_default_room": ((), Action.READ, None),
    "set_default_room": (("r",), Action.ADMIN, None),
    "read": (("r", [0]), Action.READ, "r"),
    "read_batch": (("r", [0]), Action.READ, "r"),
    "insert": (("r", batch(1)), Action.WRITE, "r"),
    "replace": (("r", 0, batch(2)), Action.WRITE, "r"),
    "delete": (("r", [0]), Action.WRITE, "r"),
    "history": (("r", 0), Action.READ, "r"),
    "undo": (("r",), Action.WRITE, "r"),
    "redo": (("r",), Action.WRITE, "r"),
    "leases": (("r",), Action.READ, "r"),
    "acquire": (("r", ORDER), Action.WRITE, "r"),
    "renew": (("r", ORDER), Action.WRITE, "r"),
    "release": (("r", ORDER), Action.WRITE, "r"),
    "release_all": ((), Action.WRITE, None),
    "set_step": (("r", 0), Action.WRITE, "r"),
    "events_since": (("r", 0), Action.READ, "r"),
}
KEYWORDS = {"insert": {"index": None, "order_base": 1}, "replace": {"base_version": 1},
            "delete": {"order_base": 1}}


def test_the_table_covers_every_public_operation():
    public = {name for name, member in inspect.getmembers(RoomService, inspect.iscoroutinefunction)
              if not name.startswith("_")}
    assert public - MAINTENANCE == set(OPERATIONS)


@pytest_asyncio.fixture
async def service(tmp_path):
    service = RoomService(MemoryStore(), ZarrProvider(tmp_path))
    await service.create_room(BOB, "r", None)
    await service.insert(BOB, "r", batch(), index=None, order_base=0)
    await service.acquire(BOB, "r", ORDER)
    return service


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(OPERATIONS))
async def test_a_policy_that_denies_everything_stops_every_operation(service, name):
    arguments, action, room = OPERATIONS[name]
    before = (await service.room_info(BOB, "r"), await service.leases(BOB, "r"))
    service.policy = policy = DenyAll()
    with pytest.raises(Forbidden):
        await getattr(service, name)(ALICE, *arguments, **KEYWORDS.get(name, {}))
    assert policy.asked[0] == (ALICE, action, room)
    service.policy = AllowAll()
    assert (await service.room_info(BOB, "r"), await service.leases(BOB, "r")) == before
