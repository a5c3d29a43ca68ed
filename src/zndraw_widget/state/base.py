"""The room state interface: what every state backend stores and guarantees.

A room has an *order* (the list of its frame ids), an ``order_version`` bumped by every
structural change, per-frame metadata (:class:`FrameRef`: version, content hash, storage
location), a ``seq`` bumped by every data change, a bounded log of those changes, leases,
the room's current frame (``step``), and per-session undo/redo stacks. Every method is
atomic: it checks everything first and then changes everything, or raises and changes
nothing.

Why one file over 400 lines: it is the Store contract, every abstract method with the
docstring that defines it, next to the records they exchange; split, the contract would have
to be read in pieces.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..errors import BadRequest
from .failures import Failure

ROOM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
EVENT_LOG_LENGTH = 1000
#: Bytes (of JSON) the event log of a room keeps at most, besides its newest event.
EVENT_LOG_BYTES = 4 << 20
ORDER = "order"
PRESENTER = "presenter"
#: Seconds a session stays present in a room unless renewed: the sessions of a server
#: process that died without saying goodbye fade out of every room after this long.
PRESENCE_TTL = 30.0
#: Seconds a server process's heartbeat lasts unless renewed: once it lapses (the process
#: was killed), other processes drop its sessions' leases and presence.
HEARTBEAT_TTL = 5.0
#: An idempotency key: 1-100 letters, digits, '_', '-', '.' or ':'.
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
#: How many keyed writes each room remembers: the newest; older keys are forgotten.
REMEMBERED_KEYS = 1000
#: What a room shares besides frames (:meth:`Store.set_shared`), each kind keyed by a string,
#: and how many entries of it a room keeps at most: each user's selection, named bookmarks.
SHARED_KINDS = {"selection": 1000, "bookmark": 200}

Record = Literal["do", "undo", "redo"]

#: What :meth:`Store.export_state` returns and :meth:`Store.import_state` takes, the same for
#: every store: ``{"default": room or None, "hashes": {hash: location}, "rooms": [room]}``,
#: each room ``{"name", "created", "seq", "order_version", "step", "order": [id],
#: "frames": {id: [version, hash, location]}, "history": {id: [[version, hash,
#: location]]}, "events": [event], "records": {session: {"undo": [...], "redo": [...]}}}``.
STATE_FORMAT = 1


def check_room_name(name: Any) -> str:
    """Return ``name`` if it is a valid room name, else raise :class:`BadRequest`."""
    if not isinstance(name, str) or not ROOM_NAME.match(name) or ".." in name:
        raise BadRequest(
            f"invalid room name {name!r}: use 1-100 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def segments_in(value: Any) -> set[str]:
    """The storage segments named by the locations (``"<segment>/<row>"``) in ``value``, a
    nest of lists and dicts such as frame metadata, histories and undo records."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            segment, slash, row = item.rpartition("/")
            if slash and row.isdigit():
                found.add(segment)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def frame_target(frame_id: str) -> str:
    """The lease target for editing one frame's content."""
    return f"frame:{frame_id}"


@dataclass(frozen=True)
class FrameRef:
    """One frame: its stable id and its current version, content hash and location."""

    id: str
    version: int
    hash: str
    location: str


@dataclass
class RoomInfo:
    """A room's counters and access: its ``owner`` (None: an open room from before owners
    existed) and ``grants`` (``user:<name>``, ``group:<name>`` or ``*`` -> role name);
    ``role`` is the caller's, filled in by the room service."""

    name: str
    length: int
    seq: int
    order_version: int
    step: int
    created: float
    description: str = ""
    #: When an ephemeral room is deleted unless someone is present (unix time); None: kept.
    expires: float | None = None
    owner: str | None = None
    grants: dict[str, str] = field(default_factory=dict)
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The room as the API shows it (the grants only to those who ask for them)."""
        data = asdict(self)
        del data["grants"]
        return data


@dataclass(frozen=True)
class Lease:
    room: str
    target: str
    holder: str  # the session
    expires: float  # unix time, seconds
    user: str | None = None  # the session's user

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Resolved:
    """The frames an index selection resolved to, with the room's state at that moment."""

    length: int
    seq: int
    order_version: int
    indices: list[int]
    refs: list[FrameRef]


@dataclass
class Commit:
    """What a write changed: the room's new counters and the events it published."""

    seq: int
    order_version: int
    versions: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    #: True for the remembered result of a repeated idempotency key (nothing changed now)
    repeated: bool = False


@dataclass(frozen=True)
class Idempotency:
    """A write's idempotency key and a digest of its request: the store remembers the
    result of each keyed write in its room; a repeated key with the same digest gets that
    result instead of a second commit, one with another digest fails (``KEY_REUSED``)."""

    key: str
    digest: str


def remembered_commit(seq: int, order_version: int, versions: list[int]) -> Commit:
    """The result a repeated key gets: the first commit's counters and versions (its
    events are in the room's event log)."""
    return Commit(seq, order_version, list(versions), repeated=True)


@dataclass(frozen=True)
class SliceSpec:
    start: int | None
    stop: int | None
    step: int | None


IndexSpec = SliceSpec | Sequence[int]


def resolve_indices(spec: IndexSpec, length: int) -> list[int]:
    """Positions selected by ``spec`` in a sequence of ``length`` (Python list semantics)."""
    if isinstance(spec, SliceSpec):
        if spec.step == 0:
            raise Failure.STEP_ZERO.error()
        return list(range(*slice(spec.start, spec.stop, spec.step).indices(length)))
    indices = []
    for index in spec:
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise Failure.INDEX.error(index=index, length=length)
        indices.append(position)
    return indices


class Subscription(ABC):
    """An async iterator of one room's events; ``aclose()`` ends it."""

    def __aiter__(self) -> Subscription:
        return self

    @abstractmethod
    async def __anext__(self) -> dict[str, Any]: ...

    @abstractmethod
    async def aclose(self) -> None: ...


class QueueSubscription(Subscription):
    """A subscription fed through an ``asyncio.Queue`` by its store."""

    def __init__(self, on_close: Callable[[QueueSubscription], Any]) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._on_close = on_close

    async def __anext__(self) -> dict[str, Any]:
        return await self.queue.get()

    async def aclose(self) -> None:
        result = self._on_close(self)
        if asyncio.iscoroutine(result):
            await result


class Store(ABC):
    """Shared room state. Implementations: ``MemoryStore`` and ``RedisStore``.

    A write with nothing to write (no frames, no ids, no changes) changes nothing: no
    version or ``seq`` moves, no event, no undo record."""

    async def ping(self) -> None:
        """Raise :class:`~zndraw_widget.errors.BackendUnavailable` if the backend cannot
        be reached (the embedded store always can)."""
        return None

    # -- rooms ----------------------------------------------------------------------------
    @abstractmethod
    async def create_room(self, name: str, copy_of: list[FrameRef], new_ids: list[str],
                          created: float, owner: str | None = None) -> RoomInfo:
        """Create ``name``, owned by ``owner`` without grants, holding frames ``new_ids``
        with the data of ``copy_of``."""

    @abstractmethod
    async def delete_room(self, name: str) -> None: ...

    @abstractmethod
    async def room_info(self, name: str) -> RoomInfo: ...

    @abstractmethod
    async def list_rooms(self, offset: int, limit: int) -> tuple[int, list[RoomInfo]]:
        """(total, rooms sorted by name from ``offset``)."""

    @abstractmethod
    async def set_room_fields(self, name: str, fields: dict[str, Any]) -> RoomInfo:
        """Set a room's ``description`` (str) and/or ``expires`` (unix time: the room is
        ephemeral; None: kept)."""

    @abstractmethod
    async def expire_rooms(self, now: float, extend: float) -> list[str]:
        """Move the expiry of every ephemeral room someone is present in to ``now +
        extend``; return the ephemeral rooms nobody is present in whose expiry is past."""

    @abstractmethod
    async def set_access(self, name: str, owner: str | None, grants: dict[str, str]
                         ) -> RoomInfo:
        """Give room ``name`` ``owner`` and ``grants`` (replacing both); tell the room with
        an ``access`` event."""

    @abstractmethod
    async def claim_session(self, session: str, user: str, ttl: float) -> None:
        """Bind ``session`` to ``user`` for ``ttl`` seconds (renewed by each claim);
        ``Forbidden`` if it is bound to another user."""

    @abstractmethod
    async def get_default_room(self) -> str | None: ...

    @abstractmethod
    async def set_default_room(self, name: str | None) -> None: ...

    # -- frames ---------------------------------------------------------------------------
    @abstractmethod
    async def resolve(self, room: str, spec: IndexSpec) -> Resolved:
        """The frames ``spec`` selects; ``IndexError`` if an index is out of range."""

    @abstractmethod
    async def insert(self, room: str, items: list[tuple[int, FrameRef]], *, session: str,
                     order_base: int | None, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        """Insert each ``(index, ref)`` in turn. Checks the order lease and ``order_base``.

        With ``key``, the three writes (insert, delete, update) first look the key up
        (see :meth:`recall`) and remember their result under it in the same atomic step (a
        room keeps its newest :data:`REMEMBERED_KEYS` keys)."""

    @abstractmethod
    async def delete(self, room: str, ids: list[str], *, session: str,
                     order_base: int | None, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        """Remove frames ``ids`` from the order. Checks the order lease and ``order_base``."""

    @abstractmethod
    async def update(self, room: str, changes: list[tuple[str, int | str, str, str]], *,
                     session: str, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        """Point frames at new data: ``(id, base, hash, location)`` each.

        Checks each frame's lease and that its version is ``base`` (an int), or, when
        ``base`` is a content hash (undo/redo), that the frame still holds that content.
        The inverse recorded for undo is ``[id, hash written, previous hash, previous
        location]``.
        """

    @abstractmethod
    async def splice(self, room: str, delete: list[str], insert: list[tuple[int, FrameRef]],
                     update: list[tuple[str, int | str, str, str]], *, session: str,
                     order_base: int | None, record: Record = "do", group: str | None = None,
                     key: Idempotency | None = None) -> Commit:
        """One change of any shape: point frames ``update`` at new data (as :meth:`update`),
        then remove frames ``delete`` and insert each ``(index, ref)`` in turn (an id just
        removed may be inserted again: a move). One order version, one
        ``frames_spliced`` event, one undo record (itself a splice). Checks the order lease,
        ``order_base`` and the updated frames' leases and bases.

        ``group``: a "do" record whose inverse only deletes frames is merged into the
        session's last undo record when that is of the same group and also only deletes, so
        that one undo reverts a change made in several commits (a long ``extend``).

        ``key``: as for :meth:`insert` (looked up first, remembered atomically).
        """

    @abstractmethod
    async def recall(self, room: str, key: Idempotency) -> Commit | None:
        """The result of the write remembered under ``key.key`` in ``room`` (its versions
        and counters, see :func:`remembered_commit`), or None; ``KEY_REUSED`` if that write
        had another digest."""

    @abstractmethod
    async def frame_history(self, room: str, frame_id: str) -> list[dict[str, Any]]:
        """``[{version, hash}]`` of the versions kept for one frame, oldest first."""

    @abstractmethod
    async def locations(self, hashes: Sequence[str]) -> dict[str, str]:
        """The stored location of each known content hash."""

    @abstractmethod
    async def live_segments(self) -> set[str]:
        """The storage segments any room still refers to: its frames, the versions kept in
        their history and the frames its undo/redo records would bring back."""

    @abstractmethod
    async def forget_segments(self, segments: set[str]) -> None:
        """Drop content-hash entries pointing into ``segments`` (before they are deleted),
        so no new write deduplicates onto them."""

    # -- shared annotations ---------------------------------------------------------------
    @abstractmethod
    async def set_shared(self, room: str, kind: str, key: str, value: Any
                         ) -> dict[str, Any] | None:
        """Set entry ``key`` of the room's ``kind`` (one of :data:`SHARED_KINDS`) to
        ``value`` (JSON-able, checked by the caller), or delete it when ``value`` is None;
        tell the room with an event ``{"type": kind, "key", "value"}`` (``seq`` not bumped),
        which is returned. Deleting an entry the room does not have changes nothing: no
        event, None (of two deletes at once, one gets the event). ``TOO_MANY`` when a new
        key would pass the kind's limit."""

    @abstractmethod
    async def shared(self, room: str, kind: str) -> dict[str, Any]:
        """Every entry of the room's ``kind``: ``{key: value}``."""

    # -- undo / redo ----------------------------------------------------------------------
    @abstractmethod
    async def pop_record(self, room: str, session: str, stack: Literal["undo", "redo"]
                         ) -> dict[str, Any] | None:
        """Take the newest inverse change of ``session`` from ``stack``."""

    @abstractmethod
    async def push_record(self, room: str, session: str, stack: Literal["undo", "redo"],
                          record: dict[str, Any]) -> None:
        """Put an inverse change back (after it could not be applied)."""

    # -- leases and the current frame -----------------------------------------------------
    @abstractmethod
    async def acquire(self, room: str, target: str, session: str, ttl: float,
                      user: str | None = None) -> Lease:
        """Grant or extend ``target`` to ``session`` (of ``user``); ``Locked`` if another
        holds it."""

    @abstractmethod
    async def renew(self, room: str, target: str, session: str, ttl: float) -> Lease:
        """Extend a lease ``session`` holds; ``Locked``/``NotFound`` otherwise."""

    @abstractmethod
    async def release(self, room: str, target: str, session: str) -> bool:
        """Release a lease ``session`` holds; False if it held none."""

    @abstractmethod
    async def release_all(self, session: str) -> list[Lease]:
        """Release every lease of ``session`` (on disconnect)."""

    @abstractmethod
    async def leases(self, room: str) -> list[Lease]: ...

    @abstractmethod
    async def set_step(self, room: str, step: int, session: str) -> int:
        """Set the room's current frame, one of its frames (0 in an empty room); only the
        presenter may."""

    @abstractmethod
    async def expire_leases(self) -> list[Lease]:
        """Remove leases and presences past their expiry and tell their rooms (each once,
        even with several processes sweeping); return the expired leases."""

    @abstractmethod
    async def presence(self, room: str, session: str, user: str | None,
                       ttl: float = PRESENCE_TTL) -> list[dict[str, Any]]:
        """Mark ``session`` (of ``user``) present in ``room`` for ``ttl`` seconds (calling
        again renews it), or absent when ``user`` is None; tell the room when this changes
        who is present; return who is present now."""

    # -- server processes -----------------------------------------------------------------
    @abstractmethod
    async def heartbeat(self, process: str, ttl: float = HEARTBEAT_TTL) -> None:
        """Say that server process ``process`` is alive for ``ttl`` more seconds."""

    @abstractmethod
    async def attach(self, process: str, session: str) -> None:
        """Record that ``session``'s control connection is on ``process``: its leases and
        presence go when that process's heartbeat lapses (a later attach moves it)."""

    @abstractmethod
    async def detach(self, process: str, session: str) -> None:
        """``session`` left ``process`` (unless it has moved to another one since)."""

    @abstractmethod
    async def expire_processes(self, sweeper: str) -> list[str]:
        """Forget the processes whose heartbeat lapsed, dropping their sessions' leases
        (announced like expired ones) and presence, each once even with several processes
        sweeping; return those processes. ``sweeper``, the process calling, is alive
        whatever its heartbeat says (its event loop may just have been busy)."""

    # -- events ---------------------------------------------------------------------------
    @abstractmethod
    async def events_since(self, room: str, seq: int) -> list[dict[str, Any]] | None:
        """Data-change events after ``seq``; ``None`` if the log no longer reaches back (it
        keeps the last ``EVENT_LOG_LENGTH`` events, and ``EVENT_LOG_BYTES`` of them)."""

    @abstractmethod
    async def subscribe(self, room: str) -> Subscription:
        """Every event of ``room`` from the moment this returns, from any process."""

    @abstractmethod
    async def publish(self, room: str, event: dict[str, Any]) -> None:
        """Send an event that changes no state (presence, lease expiry, ...)."""

    async def claim_deployment(self, deployment: str) -> str:
        """Record ``deployment`` (the storage this state belongs with) unless one is
        recorded; the recorded one. The embedded store lives in its storage: always ours."""
        return deployment

    # -- backup ---------------------------------------------------------------------------
    @abstractmethod
    async def export_state(self) -> dict[str, Any]:
        """One consistent snapshot of every room (see :data:`STATE_FORMAT`); leases and
        presence are left out, as they belong to live connections."""

    @abstractmethod
    async def import_state(self, state: dict[str, Any]) -> None:
        """Load a snapshot from :meth:`export_state` (of any store kind) into this store,
        which must hold no room (``NOT_EMPTY`` otherwise)."""

    async def close(self) -> None:  # noqa: B027 (nothing to release by default)
        """Release connections and files."""
