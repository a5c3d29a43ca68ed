"""Access rules: whether a caller may do an action to a room.

:class:`~zndraw_widget.room_service.RoomService` asks its policy before every operation; nothing
else decides access. ``room`` is None for what concerns the server as a whole (listing
rooms, the default room, a session's leases everywhere).

A room has an ``owner`` and ``grants`` (``user:<name>``, ``group:<name>`` or ``*`` to a
:class:`Role`). The caller's role in it: a server admin's or the owner's is ``admin``;
anyone else's the highest grant naming them, their groups or everyone. A room without an
owner (made before owners existed) is open: everyone may write to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, IntEnum
from typing import Any, Protocol

from .caller import Caller
from .errors import BadRequest, Forbidden
from .state.base import RoomInfo, Store
from .state.failures import Failure

EVERYONE = "*"


class Action(str, Enum):
    """What an operation does to a room."""

    LIST = "list"  # see which rooms exist
    READ = "read"  # read a room's frames, history, events, leases or settings
    WRITE = "write"  # change frames, undo/redo, take leases, move the shared step
    CREATE = "create"  # create a room
    ADMIN = "admin"  # delete a room or change its access; change server-wide settings


class Role(IntEnum):
    """What a caller may do in a room; each role includes the ones below it."""

    NONE = 0
    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


GRANTABLE = {role.label: role for role in (Role.READ, Role.WRITE, Role.ADMIN)}
NEEDS = {Action.READ: Role.READ, Action.WRITE: Role.WRITE, Action.ADMIN: Role.ADMIN}


def role_of(caller: Caller, owner: str | None, grants: Mapping[str, str]) -> Role:
    """``caller``'s role in a room of ``owner`` with ``grants``."""
    if caller.admin or caller.user == owner:
        return Role.ADMIN
    if owner is None:
        return Role.WRITE
    keys = [f"user:{caller.user}", EVERYONE, *(f"group:{g}" for g in caller.groups)]
    return max((GRANTABLE[grants[key]] for key in keys if key in grants), default=Role.NONE)


def check_grants(grants: Any) -> dict[str, str]:
    """``grants`` if it maps ``user:<name>``, ``group:<name>`` or ``*`` to a role name."""
    if not isinstance(grants, dict):
        raise BadRequest("'grants' must be an object of 'user:<name>', 'group:<name>' or '*' "
                         "to 'read', 'write' or 'admin'")
    bad_keys = sorted(str(key) for key in grants if not _grant_key(key))
    bad_roles = sorted(str(role) for role in grants.values() if role not in GRANTABLE)
    if bad_keys or bad_roles:
        raise BadRequest("invalid grants: keys are 'user:<name>', 'group:<name>' or '*', roles "
                         "'read', 'write' or 'admin'", bad_keys=bad_keys, bad_roles=bad_roles)
    return dict(grants)


def _grant_key(key: Any) -> bool:
    if key == EVERYONE:
        return True
    kind, _, name = key.partition(":") if isinstance(key, str) else ("", "", "")
    return kind in ("user", "group") and 0 < len(name) <= 100 and name.isprintable()


class Policy(Protocol):
    async def check(self, caller: Caller, action: Action, room: str | None) -> Role:
        """``caller``'s role in ``room`` if they may do ``action`` to it, else raise
        :class:`~zndraw_widget.errors.Forbidden` (or ``NotFound``)."""

    def visible(self, caller: Caller, room: RoomInfo) -> Role:
        """``caller``'s role in the listed ``room`` (``Role.NONE``: not listed to them)."""


class AllowAll:
    """Every caller may do everything (no owners or grants)."""

    async def check(self, caller: Caller, action: Action, room: str | None) -> Role:
        return Role.ADMIN

    def visible(self, caller: Caller, room: RoomInfo) -> Role:
        return Role.ADMIN


class AccessPolicy:
    """The rooms' owners and grants decide, as stored in ``store``.

    READ needs ``read``, WRITE ``write``, ADMIN ``admin``; creating and listing rooms is
    open to every caller (the list holds the rooms they may read); server-wide changes
    need a server admin. Without read access a room answers as if it did not exist.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def check(self, caller: Caller, action: Action, room: str | None) -> Role:
        if room is None or action in (Action.CREATE, Action.LIST):
            if action is Action.ADMIN and not caller.admin:
                raise Forbidden("only a server admin may change server-wide settings")
            return Role.ADMIN if caller.admin else Role.NONE
        info = await self.store.room_info(room)  # NotFound for a missing room
        role = role_of(caller, info.owner, info.grants)
        if role < Role.READ:
            raise Failure.NO_ROOM.error(room=room)  # the same answer as a missing room
        if role < NEEDS[action]:
            if role is Role.READ:
                raise Forbidden(f"room {room} is read-only for you: its owner {info.owner} "
                                "may give you write access", role=role.label)
            raise Forbidden(f"only an admin of room {room} may do this: its owner "
                            f"{info.owner} may make you one", role=role.label)
        return role

    def visible(self, caller: Caller, room: RoomInfo) -> Role:
        return role_of(caller, room.owner, room.grants)
