"""The ways a store operation fails, defined once: every store raises from here.

``Failure.X.error(**details)`` is the exception to raise; its ``failure`` attribute is ``X``,
so callers and tests can tell failures of the same class apart (``Locked`` is raised for a
held lock and for a missing presenter token). The value of each member is the name a Redis
script fails with (``zdw <value> <json details>``); the details are the keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from ..errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    KeyReused,
    Locked,
    NotFound,
    PayloadTooLarge,
)


class Failure(str, Enum):
    """Why a store operation changed nothing."""

    NO_ROOM = "no_room"  # room
    ROOM_EXISTS = "room_exists"  # room
    LOCKED = "locked"  # holder, target, expires: another session holds the lease
    HELD = "held"  # holder, target: renewing or releasing another session's lease
    NOT_PRESENTER = "not_presenter"  # holder, target: setting the step without the token
    NO_LEASE = "no_lease"  # target: renewing a lease that expired or was released
    ORDER_CHANGED = "order_changed"  # current_version, base
    FRAMES_MISSING = "frames_missing"  # missing, current_version: deleting absent frames
    FRAME_GONE = "frame_gone"  # id: updating an absent frame
    FRAME_VERSION = "frame_version"  # id, current_version, base
    FRAME_CHANGED = "frame_changed"  # id, current_version: undo/redo of a changed frame
    INSERT_POSITION = "insert_position"  # index
    FRAME_EXISTS = "frame_exists"  # id
    STEP_ZERO = "step_zero"
    STEP_RANGE = "step_range"  # step, length: setting the room's frame outside the room
    INDEX = "index"  # index, length
    NO_FRAME = "no_frame"  # id, room
    SPLICE_OVERLAP = "splice_overlap"  # id: a splice updating a frame it deletes
    NOT_EMPTY = "not_empty"  # rooms: importing state into a store that holds rooms
    SESSION_TAKEN = "session_taken"  # session: it is bound to another user
    KEY_REUSED = "key_reused"  # key: an idempotency key sent with another request
    TOO_MANY = "too_many"  # kind, limit: a new shared entry past its kind's limit

    def error(self, **details) -> Exception:
        """The exception for this failure with ``details``."""
        error = _EXCEPTIONS[self](**details)
        error.failure = self
        return error


def _what(target: str) -> str:
    from .base import ORDER  # here, not at the top: base raises from this module

    return "the frame order" if target == ORDER else target


_EXCEPTIONS: dict[Failure, Callable[..., Exception]] = {
    Failure.NO_ROOM: lambda room: NotFound(f"room {room!r} does not exist"),
    Failure.ROOM_EXISTS: lambda room: AlreadyExists(f"room {room!r} already exists"),
    Failure.LOCKED: lambda holder, target, expires: Locked(
        f"{_what(target)} is locked by {holder}", holder=holder, target=target, expires=expires),
    Failure.HELD: lambda holder, target: Locked(
        f"{target} is held by {holder}", holder=holder, target=target),
    Failure.NOT_PRESENTER: lambda holder, target: Locked(
        "only the presenter may set the room's frame; request the presenter token first",
        holder=holder, target=target),
    Failure.NO_LEASE: lambda target: NotFound(
        f"no lease on {target} to renew: it expired or was released"),
    Failure.ORDER_CHANGED: lambda current_version, base: Conflict(
        f"the frame order changed: it is at version {current_version}, the change was "
        f"based on {base}", current_version=current_version),
    Failure.FRAMES_MISSING: lambda missing, current_version: Conflict(
        f"frames {missing} are no longer in the room", current_version=current_version),
    Failure.FRAME_GONE: lambda id: Conflict(
        f"frame {id} is no longer in the room", current_version=None),
    Failure.FRAME_VERSION: lambda id, current_version, base: Conflict(
        f"frame {id} is at version {current_version}, the change was based on {base}",
        current_version=current_version, id=id),
    Failure.FRAME_CHANGED: lambda id, current_version: Conflict(
        f"frame {id} was changed since by another change: it cannot be undone or redone",
        current_version=current_version, id=id),
    Failure.INSERT_POSITION: lambda index: IndexError(f"insert position {index} out of range"),
    Failure.FRAME_EXISTS: lambda id: BadRequest(f"frame id {id} already exists"),
    Failure.STEP_ZERO: lambda: BadRequest("slice step cannot be zero"),
    Failure.STEP_RANGE: lambda step, length: IndexError(
        f"frame {step} out of range for a room of {length} frames"),
    Failure.INDEX: lambda index, length: IndexError(
        f"frame index {index} out of range for a room of {length} frames"),
    Failure.NO_FRAME: lambda id, room: NotFound(f"frame {id} is not in room {room!r}"),
    Failure.SPLICE_OVERLAP: lambda id: BadRequest(f"frame {id} is both updated and deleted"),
    Failure.NOT_EMPTY: lambda rooms: AlreadyExists(
        f"the store already holds {rooms} rooms: import (restore) into an empty one"),
    Failure.SESSION_TAKEN: lambda session: Forbidden(
        f"session {session} belongs to another user: use a session id of your own"),
    Failure.KEY_REUSED: lambda key: KeyReused(
        f"the Idempotency-Key {key!r} was used for another request (a different method, "
        "path, query, session or body): use a new key for each write", key=key),
    Failure.TOO_MANY: lambda kind, limit: PayloadTooLarge(
        f"the room keeps at most {limit} entries of {kind}: delete some first",
        kind=kind, limit=limit),
}
