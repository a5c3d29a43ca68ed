"""The wire protocol's names and argument checks, shared by the HTTP data channel
(``handlers.py``) and the control channel (``control.py``); see ``docs/protocol.md``."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..caller import Caller, User
from ..errors import BadRequest
from ..state.base import ORDER, PRESENTER, IndexSpec, SliceSpec, frame_target

# -- control channel message types --------------------------------------------------------
HELLO = "hello"
REPLY = "reply"
JOIN_ROOM = "join_room"
LEAVE_ROOM = "leave_room"
LOCK_REQUEST = "lock_request"
LOCK_RENEW = "lock_renew"
LOCK_RELEASE = "lock_release"
REQUEST_PRESENTER_TOKEN = "request_presenter_token"
RENEW_PRESENTER_TOKEN = "renew_presenter_token"
RELEASE_PRESENTER_TOKEN = "release_presenter_token"
SET_ROOM_FRAME = "set_room_frame"
PING = "ping"

# -- arguments ----------------------------------------------------------------------------
SESSION = re.compile(r"^[A-Za-z0-9_\-:.@]{1,100}\Z")
INDEX_PART = re.compile(r"^-?[0-9]{1,12}\Z")  # ASCII digits only
LEASE_TARGET = re.compile(
    rf"^({ORDER}|{PRESENTER}|{re.escape(frame_target(''))}[0-9A-Za-z_\-]{{1,64}})\Z")
MAX_TTL = 300


def session_of(user: str, given: str | None) -> str:
    """The session owning leases and undo history: the id the client sends, else the user.

    A session id is bound to the first user that writes with it
    (:mod:`zndraw_widget.sessions`).
    """
    if given is None:
        return f"user:{user}"
    if not SESSION.match(given):
        raise BadRequest("invalid session id: 1-100 letters, digits or _-:.@")
    return given


def caller_of(user: User, session: str | None) -> Caller:
    """The caller a request stands for: its authenticated ``user`` and the ``session`` it
    names (see :func:`session_of`)."""
    return Caller(user.name, user.groups, session_of(user.name, session), user.admin)


def lease_target(target: Any) -> str:
    """``target`` if it names a lease: ``order``, ``presenter`` or ``frame:<id>``."""
    if not isinstance(target, str) or not LEASE_TARGET.match(target):
        raise BadRequest("'target' must be 'order', 'presenter' or 'frame:<id>'")
    return target


def lease_ttl(ttl: Any) -> float | None:
    """``ttl`` if it is a lease's lifetime in seconds (None: the default)."""
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float))
                            or not 0 < ttl <= MAX_TTL):
        raise BadRequest(f"'ttl' must be a number of seconds between 0 and {MAX_TTL}")
    return ttl


def frame_number(frame: Any) -> int:
    """``frame`` if it is a frame's position: a non-negative integer."""
    if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
        raise BadRequest("'frame' must be a non-negative integer")
    return frame


def parse_index(text: str | None) -> IndexSpec:
    """``5``, ``-1``, ``0:100:2`` or ``1,5,7`` (absent: every frame)."""
    if text is None or text == "":
        return SliceSpec(None, None, None)
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(p == "" or INDEX_PART.match(p) for p in parts):
            raise BadRequest(f"invalid slice {text!r}: use start:stop:step with integers")
        values = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
        return SliceSpec(*values)
    parts = text.split(",")
    if not all(INDEX_PART.match(p) for p in parts):
        raise BadRequest(f"invalid index {text!r}: use an integer, a list 1,2,3 or a slice a:b:c")
    return [int(p) for p in parts]


def parse_positions(value: Any, name: str) -> list[int]:
    """A list (or integer array) of non-negative positions from a message (absent: none)."""
    if value is None:
        return []
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
        value = value.tolist()
    if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
        raise BadRequest(f"{name!r} must be a list of non-negative integers")
    return value


UNDO_GROUP = re.compile(r"^[A-Za-z0-9_\-]{1,64}\Z")


def undo_group(value: str | None) -> str | None:
    """The ``X-ZnDraw-Undo-Group`` header if it is a valid group id (absent: None)."""
    if value is not None and not UNDO_GROUP.match(value):
        raise BadRequest("invalid X-ZnDraw-Undo-Group: 1-64 letters, digits, '_' or '-'")
    return value


def parse_selection(index: Any) -> IndexSpec:
    """A selection from a JSON body: a list of integers or an index string."""
    if isinstance(index, list):
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in index):
            raise BadRequest("'index' must be a list of integers")
        return index
    if index is not None and not isinstance(index, str):
        raise BadRequest("'index' must be a list of integers or a string like '0:10'")
    return parse_index(index)
