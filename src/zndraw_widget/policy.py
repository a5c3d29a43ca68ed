"""Access rules: whether a caller may do an action to a room.

:class:`~zndraw_widget.rooms.RoomService` asks its policy before every operation; nothing
else decides access. ``room`` is None for what concerns the server as a whole (listing
rooms, the default room, a session's leases everywhere).
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from .caller import Caller


class Action(str, Enum):
    """What an operation does to a room."""

    LIST = "list"  # see which rooms exist
    READ = "read"  # read a room's frames, history, events, leases or settings
    WRITE = "write"  # change frames, undo/redo, take leases, move the shared step
    CREATE = "create"  # create a room
    ADMIN = "admin"  # delete a room, change server-wide settings


class Policy(Protocol):
    async def check(self, caller: Caller, action: Action, room: str | None) -> None:
        """Return if ``caller`` may do ``action`` to ``room``, else raise
        :class:`~zndraw_widget.errors.Forbidden`."""


class AllowAll:
    """Every caller may do everything (no owners or grants yet)."""

    async def check(self, caller: Caller, action: Action, room: str | None) -> None:
        return None
