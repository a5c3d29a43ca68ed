"""The room service asks its policy before every operation, with the caller, the action
and the room."""

from __future__ import annotations

import inspect

import pytest
import pytest_asyncio

from zndraw_widget.caller import Caller
from zndraw_widget.errors import BadRequest, Forbidden, NotFound
from zndraw_widget.frames import FrameBatch
from zndraw_widget.policy import Action, AllowAll, Role, check_grants, role_of
from zndraw_widget.room_service import RoomService
from zndraw_widget.state import MemoryStore
from zndraw_widget.state.base import ORDER
from zndraw_widget.storage import ZarrProvider

from .conftest import make_atoms

ALICE = Caller("alice", frozenset({"lab"}), "s")
BOB = Caller("bob", frozenset(), "b")

# Not a caller's operation: the server's own maintenance of unreferenced stored data and of
# ephemeral rooms nobody uses any more, and its health check of the state backend.
MAINTENANCE = {"reclaim", "expire_rooms", "ping"}


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
    "set_access": (("r", {"*": "read"}), Action.ADMIN, "r"),
    "delete_room": (("r",), Action.ADMIN, "r"),
    "list_rooms": ((0, 10), Action.LIST, None),
    "get_default_room": ((), Action.READ, None),
    "set_default_room": (("r",), Action.ADMIN, None),
    "read": (("r", [0]), Action.READ, "r"),
    "read_batch": (("r", [0]), Action.READ, "r"),
    "resolve": (("r", [0]), Action.READ, "r"),
    "describe": (("r",), Action.READ, "r"),
    "insert": (("r", batch(1)), Action.WRITE, "r"),
    "replace": (("r", 0, batch(2)), Action.WRITE, "r"),
    "delete": (("r", [0]), Action.WRITE, "r"),
    "splice": (("r",), Action.WRITE, "r"),
    "set_room_fields": (("r",), Action.WRITE, "r"),
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
    "selections": (("r",), Action.READ, "r"),
    "set_selection": (("r", [0]), Action.READ, "r"),  # your own selection: no data changes
    "bookmarks": (("r",), Action.READ, "r"),
    "set_bookmark": (("r", "b", {"frame": 0}), Action.WRITE, "r"),
    "delete_bookmark": (("r", "b"), Action.WRITE, "r"),
}
KEYWORDS = {"insert": {"index": None, "order_base": 1}, "replace": {"base_version": 1},
            "delete": {"order_base": 1},
            "splice": {"delete": [0], "update": [], "insert": [], "batch": None,
                       "order_base": 1},
            "set_room_fields": {"description": "x"}}


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


# -- the access rules ---------------------------------------------------------------------
ANN = Caller("ann", frozenset(), "a")
ADMIN = Caller("root", frozenset(), "r", admin=True)
GRANTS = {"user:ben": "write", "group:lab": "read", "user:alice": "admin"}


@pytest.mark.parametrize(("caller", "owner", "grants", "role"), [
    (ANN, "ann", {}, Role.ADMIN),  # the owner
    (ADMIN, "ann", {}, Role.ADMIN),  # a server admin
    (Caller("ben", frozenset({"lab"}), "b"), "ann", GRANTS, Role.WRITE),  # the highest grant
    (Caller("cid", frozenset({"lab"}), "c"), "ann", GRANTS, Role.READ),  # by group
    (Caller("cid", frozenset(), "c"), "ann", GRANTS, Role.NONE),
    (Caller("cid", frozenset(), "c"), "ann", {**GRANTS, "*": "read"}, Role.READ),  # everyone
    (Caller("cid", frozenset(), "c"), None, {}, Role.WRITE),  # a room from before owners
    (ALICE, "ann", GRANTS, Role.ADMIN),
])
def test_a_callers_role(caller, owner, grants, role):
    assert role_of(caller, owner, grants) is role


def test_grants_name_users_groups_or_everyone_and_a_role():
    assert check_grants({"*": "read", "user:a": "admin"}) == {"*": "read", "user:a": "admin"}
    with pytest.raises(BadRequest) as error:
        check_grants({"a": "read", "user:": "read", "group:g": "owner"})
    assert (error.value.details["bad_keys"], error.value.details["bad_roles"]) == (
        ["a", "user:"], ["owner"])
    with pytest.raises(BadRequest):
        check_grants(["user:a"])


@pytest_asyncio.fixture
async def shared(tmp_path):
    """Room "r" of ann's, read by cid, written by ben; room "open" from before owners."""
    store = MemoryStore()
    service = RoomService(store, ZarrProvider(tmp_path))
    await service.create_room(ANN, "r", None)
    await service.set_access(ANN, "r", {"user:cid": "read", "user:ben": "write"})
    await store.create_room("open", [], [], 1.0)
    return service


@pytest.mark.asyncio
async def test_access_policy_refusals(shared):
    cid, ben, eve = (Caller(n, frozenset(), n) for n in ("cid", "ben", "eve"))
    with pytest.raises(NotFound) as missing:
        await shared.room_info(eve, "missing")
    with pytest.raises(NotFound) as hidden:
        await shared.room_info(eve, "r")
    assert str(hidden.value) == str(missing.value).replace("missing", "r")
    with pytest.raises(Forbidden, match="room r is read-only for you: its owner ann may give "
                                        "you write access"):
        await shared.acquire(cid, "r", ORDER)
    with pytest.raises(Forbidden, match="admin"):
        await shared.delete_room(ben, "r")
    with pytest.raises(Forbidden, match="server admin"):
        await shared.set_default_room(ANN, "r")
    await shared.set_default_room(ADMIN, "r")
    assert (await shared.room_info(eve, "open")).role == "write"
    await shared.acquire(eve, "open", ORDER)
    with pytest.raises(Forbidden):
        await shared.set_access(eve, "open", {}, owner="eve")
    await shared.set_access(ADMIN, "open", {}, owner="eve")
    assert (await shared.room_info(eve, "open")).role == "admin"
