"""The kernel-side client: :class:`Room`, :func:`rooms` and the errors they raise."""

from __future__ import annotations

from .discovery import Endpoint, discover
from .errors import (
    AuthenticationError,
    ConflictError,
    LockedError,
    RoomNotFoundError,
    ServerNotFoundError,
)
from .listing import rooms
from .room import Room

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "Endpoint",
    "LockedError",
    "Room",
    "RoomNotFoundError",
    "ServerNotFoundError",
    "discover",
    "rooms",
]
