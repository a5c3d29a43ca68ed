"""The kernel-side client: :class:`Room` and the errors it raises."""

from __future__ import annotations

from .discovery import Endpoint, discover
from .errors import (
    AuthenticationError,
    ConflictError,
    LockedError,
    RoomNotFoundError,
    ServerNotFoundError,
)
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
]
