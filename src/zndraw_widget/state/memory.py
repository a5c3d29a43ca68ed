"""The default state backend: in process, no server, persisted to a journal on disk.

Every change is checked against the state, appended to ``state.journal`` and fsync'd (in
the journal's thread: the event loop serves reads meanwhile), and only then applied in
memory and announced: a change the journal could not take (a full disk) changes nothing.
Changes run one at a time, in order (:func:`_change`), each to its end even if its caller
is cancelled; once the store is closed they are refused. Leases are not changes (never
journalled): one acquired while a change waits for its fsync is checked by the next change,
and a lease granted between a change's check and its apply is equivalent to one granted
just after it (the holder's edits still carry their base versions). On start the last
snapshot is loaded and the journal replayed (:mod:`.journal`). A snapshot replaces the
journal once it holds ``SNAPSHOT_RECORDS`` records, has grown to ``1 / SNAPSHOT_SHARE`` of
the last snapshot's size (at least ``SNAPSHOT_MIN_BYTES``), or its oldest record is
``SNAPSHOT_AGE`` seconds old, so that replaying it never takes much longer than loading the
snapshot (written on the event loop: rare). Per-frame state is held in
columns (:mod:`.table`), which a snapshot writes as raw buffers. Leases are not persisted: they die with the process, as
the connections that held them do.

Why one file over 400 lines: ``MemoryStore`` implements the whole Store contract; each
operation is a check/apply pair whose arguments are its journal record, and keeping them in
one class keeps the journal format in one place. Journal files are :mod:`.journal`.
"""

from __future__ import annotations

import asyncio
import bisect
import fcntl
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgpack
import numpy as np

from ..collection import paused_gc
from ..durable import fsync, replace_file
from ..errors import InsufficientStorage, Unavailable
from .base import (
    EVENT_LOG_BYTES,
    EVENT_LOG_LENGTH,
    HEARTBEAT_TTL,
    ORDER,
    PRESENCE_TTL,
    PRESENTER,
    REMEMBERED_KEYS,
    SHARED_KINDS,
    Commit,
    FrameRef,
    Idempotency,
    IndexSpec,
    Lease,
    QueueSubscription,
    Record,
    Resolved,
    RoomInfo,
    Store,
    frame_target,
    remembered_commit,
    resolve_indices,
    segments_in,
)
from .columns import (
    KeyIndex,
    Segments,
    hash_text,
    hashes_array,
    ids_array,
    lookup_keys,
)
from .failures import Failure
from .journal import Journal, read_records
from .table import FrameTable

log = logging.getLogger(__name__)
T = TypeVar("T")
SNAPSHOT_RECORDS = 10_000
SNAPSHOT_MIN_BYTES = 16 << 20
#: A journal byte costs about ten times a snapshot byte to load (records are per-frame
#: Python objects, a snapshot raw arrays): the journal is snapshot at this share of the
#: snapshot's size, so that replaying it costs about as much as loading the snapshot.
SNAPSHOT_SHARE = 8
SNAPSHOT_AGE = 600.0
SNAPSHOT_RETRY = 60.0  # seconds before trying again after a snapshot failed
#: The snapshot format: 2 holds each room's frames as raw arrays (:mod:`.table`); 1, per-frame
#: lists and dicts, still loads.
SNAPSHOT_FORMAT = 2


class _Stack(list):
    """An undo or redo stack whose records but the newest are kept packed (msgpack): a
    record of a big write names every frame it touched, a few bytes each so."""

    def append(self, record: dict[str, Any]) -> None:
        if self and isinstance(self[-1], dict):
            self[-1] = msgpack.packb(self[-1])
        super().append(record)

    def pop(self) -> dict[str, Any]:  # type: ignore[override]
        record = super().pop()
        if self and isinstance(self[-1], bytes):
            self[-1] = _unpacked(self[-1])
        return _unpacked(record)

    def unpacked(self) -> list[dict[str, Any]]:
        return [_unpacked(record) for record in self]


def _change(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """A method changing what the store's checks read, run alone: under the store's lock, so
    that it is checked, journalled and applied before the next change begins; and to its end
    even if its caller is cancelled (its record may be on disk). Without a journal (a store
    in memory only) nothing waits, and it runs as it is; a closed store refuses it."""

    @functools.wraps(method)
    async def alone(self: MemoryStore, *args: Any, **kwargs: Any) -> T:
        if self._journal is None and not self._closed:
            return await method(self, *args, **kwargs)
        return await asyncio.shield(self._locked(functools.partial(method, self, *args, **kwargs)))

    return alone


def _unpacked(record: dict[str, Any] | bytes) -> dict[str, Any]:
    return msgpack.unpackb(record, strict_map_key=False) if isinstance(record, bytes) else record


def _stacks(records: dict[str, dict[str, list]]) -> dict[str, dict[str, _Stack]]:
    """Undo and redo records as a room keeps them."""
    return {session: {name: _Stack(stack) for name, stack in stacks.items()}
            for session, stacks in records.items()}


@dataclass
class _Room:
    name: str
    created: float
    table: FrameTable  # the frames, in order, and their past versions
    order_version: int = 0
    seq: int = 0
    step: int = 0
    events: deque = field(default_factory=deque)  # of (seq, the event as msgpack)
    event_bytes: int = 0
    records: dict[str, dict[str, _Stack]] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)  # description, expires
    owner: str | None = None
    grants: dict[str, str] = field(default_factory=dict)
    # idempotency key -> [digest, seq, order_version, versions], oldest first
    remembered: dict[str, list[Any]] = field(default_factory=dict)
    shared: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> {key: value}

    def info(self) -> RoomInfo:
        return RoomInfo(self.name, len(self.table), self.seq, self.order_version, self.step,
                        self.created, self.fields.get("description", ""),
                        self.fields.get("expires"), self.owner, dict(self.grants))

    def stack(self, session: str, name: str) -> list[dict[str, Any]]:
        return self.records.setdefault(session, {"undo": _Stack(), "redo": _Stack()})[name]

    def unpacked_records(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """The undo and redo records of every session that has some."""
        return {session: {name: stack.unpacked() for name, stack in stacks.items()}
                for session, stacks in self.records.items() if stacks["undo"] or stacks["redo"]}

    def log_event(self, event: dict[str, Any]) -> None:
        """Log a data event, dropping the oldest past ``EVENT_LOG_LENGTH`` events or
        ``EVENT_LOG_BYTES`` (the newest stays). Events are kept packed: a few bytes per
        frame id instead of a Python string each."""
        self.log_packed(event["seq"], msgpack.packb(event))

    def log_packed(self, seq: int, packed: bytes) -> None:
        self.events.append((seq, packed))
        self.event_bytes += len(packed)
        while len(self.events) > 1 and (len(self.events) > EVENT_LOG_LENGTH
                                        or self.event_bytes > EVENT_LOG_BYTES):
            self.event_bytes -= len(self.events.popleft()[1])

    def logged_events(self, first: int = 0) -> list[dict[str, Any]]:
        """The events of the log from the ``first``, oldest first."""
        return [msgpack.unpackb(packed, strict_map_key=False)
                for _, packed in list(self.events)[first:]]


class MemoryStore(Store):
    """Room state in this process; ``path`` (a directory) makes it survive restarts."""

    def __init__(self, path: str | Path | None = None, history_depth: int = 100,
                 record_depth: int = 100) -> None:
        self.history_depth = history_depth
        self.record_depth = record_depth
        self._rooms: dict[str, _Room] = {}
        self._default: str | None = None
        self._segments = Segments()  # the storage segments locations are numbered by
        self._known = KeyIndex()  # content hash -> its location, for every room
        self._leases: dict[tuple[str, str], Lease] = {}
        self._present: dict[str, dict[str, dict[str, Any]]] = {}
        self._present_until: dict[tuple[str, str], float] = {}  # (room, session) -> expiry
        self._heartbeats: dict[str, float] = {}  # process -> expiry
        self._process_of: dict[str, str] = {}  # session -> the process it is attached to
        self._subscribers: dict[str, set[QueueSubscription]] = {}
        self._sessions: dict[str, tuple[str, float]] = {}  # session -> (user, bound until)
        self._journal: Journal | None = None
        self._changing = asyncio.Lock()  # held by a change (see _change)
        self._closed = False  # its journal closed: changes are refused
        self._generation = 0  # of the last snapshot
        self._snapshot_bytes = 0  # its size
        self._snapshot_failed = float("-inf")  # when a snapshot last failed
        if path is not None:
            self._open(Path(path))

    # -- persistence ----------------------------------------------------------------------
    def _open(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lockfile = open(path / "state.lock", "w")
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"the state in {path} is in use by another process; to run several server "
                "processes on one storage path, give them a Redis URL"
            ) from None
        with paused_gc():  # millions of long-lived objects: collections while loading cost 2x
            self._load_snapshot_file(path)
            self._journal = Journal(path / "state.journal")
            fsync(path)  # the journal's entry, if it was just created
            for op, args in self._journal.replay(self._generation):
                getattr(self, f"_apply_{op}")(*args)
        if self._snapshot_due():
            self._snapshot()

    def _load_snapshot_file(self, path: Path) -> None:
        snapshot = path / "state.snapshot"
        if snapshot.exists():
            data = snapshot.read_bytes()
            self._snapshot_bytes = len(data)
            self._load_snapshot(msgpack.unpackb(data, strict_map_key=False))

    @classmethod
    def snapshot_of(cls, path: str | Path, attempts: int = 20) -> MemoryStore:
        """A detached copy of the state persisted under ``path``, read without its lock,
        while a server keeps using it (for backups): every change acknowledged before the
        read is in it. A read that overlapped a snapshot of the journal is retried."""
        path = Path(path)

        def identity() -> tuple[int, int] | None:  # a new snapshot is a new file
            try:
                stat = (path / "state.snapshot").stat()
            except FileNotFoundError:
                return None
            return stat.st_ino, stat.st_mtime_ns

        for _ in range(attempts):
            before = identity()
            copy = cls()
            copy._load_snapshot_file(path)
            journal = path / "state.journal"
            records, _ = read_records(journal.read_bytes() if journal.exists() else b"",
                                      copy._generation)
            for op, args in records:
                getattr(copy, f"_apply_{op}")(*args)
            if identity() == before:  # else the journal read may follow a newer snapshot
                return copy
        raise RuntimeError(f"could not read a consistent state from {path}: it kept changing")

    async def _locked(self, change: Callable[[], Awaitable[T]]) -> T:
        async with self._changing:  # the change begins once it holds the lock
            if self._closed:  # it waited behind close(): it would be applied, not journalled
                raise Unavailable("the state store is closed (the server is stopping): "
                                  "nothing was changed")
            return await change()

    async def _log(self, op: str, *args: Any) -> Any:
        """Check ``op``, make its record durable, then apply it (which cannot fail); called
        by a :func:`_change`."""
        check: Callable[..., None] | None = getattr(self, f"_check_{op}", None)
        if check is not None:  # the ops without one cannot be refused
            check(*args)
        if self._journal is not None:
            await self._journal.append([op, list(args)])
        result = getattr(self, f"_apply_{op}")(*args)
        if self._journal is not None and self._snapshot_due():
            self._snapshot()
        return result

    def _snapshot_due(self) -> bool:
        journal = self._journal
        return (journal.records > 0
                and time.monotonic() - self._snapshot_failed >= SNAPSHOT_RETRY
                and (journal.records >= SNAPSHOT_RECORDS
                     or journal.size >= max(SNAPSHOT_MIN_BYTES, self._snapshot_bytes // SNAPSHOT_SHARE)
                     or time.monotonic() - journal.started >= SNAPSHOT_AGE))

    def _snapshot(self) -> None:
        """Replace the journal by a snapshot of the state; if that fails (a full disk), the
        journal stays and the next try is ``SNAPSHOT_RETRY`` seconds later."""
        now = time.time()
        self._sessions = {s: bound for s, bound in self._sessions.items() if bound[1] > now}
        state = {
            "format": SNAPSHOT_FORMAT,
            "generation": self._generation + 1,
            "default": self._default,
            "segments": self._segments.names,
            "hashes": self._known.state(),
            "sessions": self._sessions,
            "rooms": [
                [r.name, r.created, r.table.state(), r.order_version, r.seq, r.step,
                 [list(event) for event in r.events], r.records, r.owner, r.grants,
                 r.remembered, r.fields, r.shared]
                for r in self._rooms.values()
            ],
        }
        data = msgpack.packb(state)
        try:
            replace_file(self._path / "state.snapshot", data)
        except OSError as error:
            self._snapshot_failed = time.monotonic()
            log.warning("the state snapshot failed, the journal is kept: %s", error)
            return
        self._generation += 1
        self._snapshot_bytes = len(data)
        try:
            self._journal.reset(self._generation)
        except (OSError, InsufficientStorage) as error:  # emptied, without its header: its
            log.warning("the state journal lost its header: %s", error)  # records still count

    def _load_snapshot(self, state: dict[str, Any]) -> None:
        self._generation = state.get("generation", 0)
        self._default = state["default"]
        self._sessions = {s: tuple(bound) for s, bound in state.get("sessions", {}).items()}
        if state.get("format") == SNAPSHOT_FORMAT:
            self._segments = Segments(state["segments"])
            self._known = KeyIndex.from_state(state["hashes"])
            rooms = [[name, created, FrameTable.from_state(self._segments, self.history_depth,
                                                           table), *rest]
                     for name, created, table, *rest in state["rooms"]]
        else:  # format 1: per-frame lists and dicts
            self._add_known(state["hashes"])
            rooms = [[name, created, self._table(order, frames, history), *rest]
                     for name, created, order, frames, history, *rest in state["rooms"]]
        for (name, created, table, order_version, seq, step, events, records,
             *later) in rooms:  # added since format 1 began: owner, grants, keys, fields, shared
            room = _Room(name, created, table, order_version, seq, step)
            for event in events:  # [seq, packed] (format 2) or the event (format 1)
                if isinstance(event, dict):
                    room.log_event(event)
                else:
                    room.log_packed(*event)
            room.records = _stacks(records)
            defaults = [None, {}, {}, {}, {}]  # absent from older snapshots: open, nothing kept
            room.owner, room.grants, room.remembered, room.fields, room.shared = (
                later + defaults[len(later):])
            self._rooms[name] = room

    async def close(self) -> None:
        if self._journal is None:
            return
        async with self._changing:  # a change under way finishes first; later ones are refused
            if self._closed:
                return
            self._closed = True
            self._journal.close()
            self._lockfile.close()
            self._journal = None

    # -- helpers --------------------------------------------------------------------------
    def _room(self, name: str) -> _Room:
        room = self._rooms.get(name)
        if room is None:
            raise Failure.NO_ROOM.error(room=name)
        return room

    def _holder(self, room: str, target: str) -> Lease | None:
        """The live lease on ``target`` (an expired one stays until swept, unseen)."""
        lease = self._leases.get((room, target))
        if lease is not None and lease.expires <= time.time():
            return None
        return lease

    def _check_lease(self, room: str, target: str, session: str) -> None:
        lease = self._holder(room, target)
        if lease is not None and lease.holder != session:
            raise Failure.LOCKED.error(holder=lease.holder, target=target,
                                       expires=lease.expires)

    def _emit(self, room: _Room, event: dict[str, Any], data: bool = True) -> dict[str, Any]:
        if data:
            room.seq += 1
            event = {**event, "seq": room.seq}
            room.log_event(event)
        else:
            event = {**event, "seq": room.seq}
        event = {**event, "time": time.time()}  # as published: when it was made (not logged)
        for subscription in self._subscribers.get(room.name, ()):
            subscription.queue.put_nowait(event)
        return event

    def _record(self, room: _Room, session: str, record: Record, inverse: dict[str, Any],
                group: str | None = None) -> None:
        stack = room.stack(session, "redo" if record == "undo" else "undo")
        if group is not None and record == "do":
            inverse["group"] = group
            if stack and _deletes_only(stack[-1]) and _deletes_only(inverse) \
                    and stack[-1].get("group") == group:
                stack[-1]["delete"] = stack[-1]["delete"] + inverse["delete"]
                room.stack(session, "redo").clear()
                return
        stack.append(inverse)
        del stack[: -self.record_depth]
        if record == "do":
            room.stack(session, "redo").clear()

    def _recalled(self, room: str, key: Idempotency | None) -> Commit | None:
        """The remembered result of ``key`` in ``room`` (see :meth:`Store.recall`)."""
        if key is None:
            return None
        entry = self._room(room).remembered.get(key.key)
        if entry is None:
            return None
        digest, *result = entry
        if digest != key.digest:
            raise Failure.KEY_REUSED.error(key=key.key)
        return remembered_commit(*result)

    def _remember(self, room: _Room, key: list[str] | None, commit: Commit,
                  versions: list[int]) -> Commit:
        if key is not None:
            room.remembered[key[0]] = [key[1], commit.seq, commit.order_version, versions]
            while len(room.remembered) > REMEMBERED_KEYS:
                del room.remembered[next(iter(room.remembered))]
        return commit

    def _table(self, order: Sequence[str] = (), frames: dict[str, Any] | None = None,
               history: dict[str, Any] | None = None) -> FrameTable:
        """A room's frames: none, or those of an export (see :data:`STATE_FORMAT`)."""
        return FrameTable.from_export(self._segments, self.history_depth, order, frames or {},
                                      history or {})

    def _add_known(self, hashes: dict[str, str]) -> None:
        """Remember where content ``hashes`` ({hash: location}) is stored."""
        self._known.set(hashes_array(list(hashes)), self._segments.encode_all(list(hashes.values())))

    def _insert_runs(self, room: _Room, items: list) -> None:
        """Insert ``[index, id, version, hash, location]`` each in turn, run by run of
        consecutive positions."""
        start = 0
        for k, item in enumerate(items):
            if k + 1 == len(items) or items[k + 1][0] != item[0] + 1:
                self._known.set(*room.table.insert(items[start][0],
                                                   [i[1:] for i in items[start : k + 1]]))
                start = k + 1

    def _update_frame(self, room: _Room, row: int, hash_: str, location: str
                      ) -> tuple[int, str, str]:
        """Point the frame at ``row`` at new content; its version, old hash and location."""
        _, old_version, old_hash, old_location = room.table.ref(row)
        self._known.set(*room.table.update(row, old_version + 1, hash_, location))
        return old_version + 1, old_hash, old_location

    # -- rooms ----------------------------------------------------------------------------
    @_change
    async def create_room(self, name: str, copy_of: list[FrameRef], new_ids: list[str],
                          created: float, owner: str | None = None) -> RoomInfo:
        refs = [[r.version, r.hash, r.location] for r in copy_of]
        return await self._log("create_room", name, refs, new_ids, created, owner)

    def _check_create_room(self, name: str, refs: list, new_ids: list[str], *_: Any) -> None:
        if name in self._rooms:
            raise Failure.ROOM_EXISTS.error(room=name)
        _check_held(new_ids, [ref[1] for ref in refs])

    def _apply_create_room(self, name: str, refs: list, new_ids: list[str], created: float,
                           owner: str | None = None) -> RoomInfo:
        room = _Room(name, created, self._table(), owner=owner)
        self._insert_runs(room, [[k, frame_id, 1, hash_, location] for k, (frame_id, (_, hash_, location))
                                 in enumerate(zip(new_ids, refs))])
        self._rooms[name] = room
        return room.info()

    @_change
    async def delete_room(self, name: str) -> None:
        await self._log("delete_room", name)
        self._present.pop(name, None)
        for key in [k for k in self._leases if k[0] == name]:
            del self._leases[key]
        for subscription in self._subscribers.get(name, ()):
            subscription.queue.put_nowait({"type": "room_deleted", "room": name, "seq": -1,
                                              "time": time.time()})

    def _check_delete_room(self, name: str) -> None:
        self._room(name)

    def _apply_delete_room(self, name: str) -> None:
        del self._rooms[name]
        if self._default == name:
            self._default = None

    async def room_info(self, name: str) -> RoomInfo:
        return self._room(name).info()

    async def list_rooms(self, offset: int, limit: int) -> tuple[int, list[RoomInfo]]:
        names = sorted(self._rooms)
        return len(names), [self._rooms[n].info() for n in names[offset : offset + limit]]

    @_change
    async def set_room_fields(self, name: str, fields: dict[str, Any]) -> RoomInfo:
        return await self._log("set_room_fields", name, fields)

    def _check_set_room_fields(self, name: str, fields: dict[str, Any]) -> None:
        self._room(name)

    def _apply_set_room_fields(self, name: str, fields: dict[str, Any]) -> RoomInfo:
        room = self._rooms[name]
        room.fields.update(fields)
        return room.info()

    @_change
    async def expire_rooms(self, now: float, extend: float) -> list[str]:
        due = []
        for room in list(self._rooms.values()):
            expires = room.fields.get("expires")
            if expires is None:
                continue
            if self._present.get(room.name):
                await self._log("set_room_fields", room.name, {"expires": now + extend})
            elif expires <= now:
                due.append(room.name)
        return due

    @_change
    async def set_access(self, name: str, owner: str | None, grants: dict[str, str]
                         ) -> RoomInfo:
        info = await self._log("set_access", name, owner, grants)
        self._emit(self._rooms[name], {"type": "access", "room": name, "owner": owner,
                                       "grants": dict(grants)}, data=False)
        return info

    def _check_set_access(self, name: str, *_: Any) -> None:
        self._room(name)

    def _apply_set_access(self, name: str, owner: str | None, grants: dict[str, str]
                          ) -> RoomInfo:
        room = self._rooms[name]
        room.owner, room.grants = owner, dict(grants)
        return room.info()

    @_change
    async def claim_session(self, session: str, user: str, ttl: float) -> None:
        await self._log("claim_session", session, user, time.time(), ttl)

    def _check_claim_session(self, session: str, user: str, now: float, ttl: float) -> None:
        bound, until = self._sessions.get(session, (user, now))
        if bound != user and until > now:
            raise Failure.SESSION_TAKEN.error(session=session)

    def _apply_claim_session(self, session: str, user: str, now: float, ttl: float) -> None:
        self._sessions[session] = (user, now + ttl)

    async def get_default_room(self) -> str | None:
        return self._default

    @_change
    async def set_default_room(self, name: str | None) -> None:
        await self._log("set_default_room", name)

    def _check_set_default_room(self, name: str | None) -> None:
        if name is not None:
            self._room(name)

    def _apply_set_default_room(self, name: str | None) -> None:
        self._default = name

    # -- frames ---------------------------------------------------------------------------
    async def resolve(self, room: str, spec: IndexSpec) -> Resolved:
        state = self._room(room)
        table = state.table
        indices = resolve_indices(spec, len(table))
        refs = [FrameRef(*ref) for ref in table.refs(table.order[indices])]
        return Resolved(len(table), state.seq, state.order_version, indices, refs)

    @_change
    async def insert(self, room: str, items: list[tuple[int, FrameRef]], *, session: str,
                     order_base: int | None, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        if (done := self._recalled(room, key)) is not None:
            return done
        if not items and key is None:  # with a key, remembered (through the journal)
            return self._unchanged(room, session, order_base)
        wire = [[i, r.id, r.version, r.hash, r.location] for i, r in items]
        return await self._log("insert", room, wire, session, order_base, record, _key(key))

    def _unchanged(self, room: str, session: str, order_base: int | None) -> Commit:
        """An empty structural write: checked like any, and changing nothing."""
        state = self._room(room)
        self._check_order(state, session, order_base)
        return Commit(state.seq, state.order_version)

    def _check_insert(self, room: str, items: list, session: str, order_base: int | None,
                      record: Record, key: list[str] | None = None) -> None:
        state = self._room(room)
        self._check_order(state, session, order_base)
        _check_held([item[1] for item in items], [item[3] for item in items])
        length = len(state.table)
        rows = state.table.rows_of([item[1] for item in items]).tolist()
        seen = set()
        for offset, ((index, frame_id, *_rest), row) in enumerate(zip(items, rows)):
            if not 0 <= index <= length + offset:
                raise Failure.INSERT_POSITION.error(index=index)
            if row >= 0 or frame_id in seen:
                raise Failure.FRAME_EXISTS.error(id=frame_id)
            seen.add(frame_id)

    def _apply_insert(self, room: str, items: list, session: str, order_base: int | None,
                      record: Record, key: list[str] | None = None) -> Commit:
        state = self._rooms[room]
        if not items:
            return self._remember(state, key, Commit(state.seq, state.order_version), [])
        self._insert_runs(state, items)
        state.order_version += 1
        ids = [item[1] for item in items]
        self._record(state, session, record, {"op": "delete", "ids": ids})
        event = self._emit(state, {
            "type": "frames_inserted", "room": room, "indices": [item[0] for item in items],
            "ids": ids, "order_version": state.order_version, "length": len(state.table),
        })
        commit = Commit(state.seq, state.order_version, [item[2] for item in items], [event])
        return self._remember(state, key, commit, [])

    def _check_order(self, state: _Room, session: str, order_base: int | None) -> None:
        self._check_lease(state.name, ORDER, session)
        if order_base is not None and order_base != state.order_version:
            raise Failure.ORDER_CHANGED.error(current_version=state.order_version,
                                              base=order_base)

    @_change
    async def delete(self, room: str, ids: list[str], *, session: str,
                     order_base: int | None, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        if (done := self._recalled(room, key)) is not None:
            return done
        if not ids and key is None:  # with a key, remembered (through the journal)
            return self._unchanged(room, session, order_base)
        return await self._log("delete", room, ids, session, order_base, record, _key(key))

    def _check_delete(self, room: str, ids: list[str], session: str, order_base: int | None,
                      record: Record, key: list[str] | None = None) -> None:
        state = self._room(room)
        self._check_order(state, session, order_base)
        missing = [i for i, row in zip(ids, state.table.rows_of(ids).tolist()) if row < 0]
        if missing:
            raise Failure.FRAMES_MISSING.error(missing=missing,
                                               current_version=state.order_version)

    def _apply_delete(self, room: str, ids: list[str], session: str, order_base: int | None,
                      record: Record, key: list[str] | None = None) -> Commit:
        state = self._rooms[room]
        if not ids:
            return self._remember(state, key, Commit(state.seq, state.order_version), [])
        # an id may be given twice
        positions, removed = state.table.remove(np.unique(state.table.rows_of(ids)))
        inverse = [[p, *ref] for p, ref in zip(positions, removed)]
        state.order_version += 1
        self._record(state, session, record, {"op": "insert", "items": inverse})
        event = self._emit(state, {
            "type": "frames_deleted", "room": room, "indices": positions, "ids": ids,
            "order_version": state.order_version, "length": len(state.table),
        })
        return self._remember(state, key, Commit(state.seq, state.order_version, [], [event]), [])

    @_change
    async def update(self, room: str, changes: list[tuple[str, int, str, str]], *,
                     session: str, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        if (done := self._recalled(room, key)) is not None:
            return done
        if not changes and key is None:  # with a key, remembered (through the journal)
            state = self._room(room)
            return Commit(state.seq, state.order_version)
        return await self._log("update", room, [list(c) for c in changes], session, record,
                               _key(key))

    def _check_update(self, room: str, changes: list, session: str, record: Record,
                      key: list[str] | None = None) -> None:
        state = self._room(room)
        _check_held([], [change[2] for change in changes])
        rows = state.table.rows_of([change[0] for change in changes]).tolist()
        for (frame_id, base, _, _), row in zip(changes, rows):
            if row < 0:
                raise Failure.FRAME_GONE.error(id=frame_id)
            self._check_lease(room, frame_target(frame_id), session)
            _, current, current_hash, _ = state.table.ref(row)
            if isinstance(base, str) and current_hash != base:  # undo/redo: by content
                raise Failure.FRAME_CHANGED.error(id=frame_id, current_version=current)
            if not isinstance(base, str) and current != base:
                raise Failure.FRAME_VERSION.error(id=frame_id, current_version=current, base=base)

    def _apply_update(self, room: str, changes: list, session: str, record: Record,
                      key: list[str] | None = None) -> Commit:
        state = self._rooms[room]
        if not changes:
            return self._remember(state, key, Commit(state.seq, state.order_version), [])
        inverse, events, versions = [], [], []
        rows = state.table.rows_of([change[0] for change in changes])
        positions = state.table.positions(rows).tolist()
        for (frame_id, _, hash_, location), row, index in zip(changes, rows.tolist(), positions):
            version, old_hash, old_location = self._update_frame(state, row, hash_, location)
            inverse.append([frame_id, hash_, old_hash, old_location])
            versions.append(version)
            events.append(self._emit(state, {
                "type": "frame_updated", "room": room, "frame": index, "id": frame_id,
                "version": version,
            }))
        self._record(state, session, record, {"op": "update", "frames": inverse})
        return self._remember(state, key, Commit(state.seq, state.order_version, versions, events),
                              versions)

    async def recall(self, room: str, key: Idempotency) -> Commit | None:
        return self._recalled(room, key)

    @_change
    async def splice(self, room: str, delete: list[str], insert: list[tuple[int, FrameRef]],
                     update: list[tuple[str, int | str, str, str]], *, session: str,
                     order_base: int | None, record: Record = "do", group: str | None = None,
                     key: Idempotency | None = None) -> Commit:
        if (done := self._recalled(room, key)) is not None:
            return done
        wire = [[i, r.id, r.version, r.hash, r.location] for i, r in insert]
        return await self._log("splice", room, list(delete), wire, [list(c) for c in update],
                               session, order_base, record, group, _key(key))

    def _check_splice(self, room: str, delete: list[str], insert: list, update: list,
                      session: str, order_base: int | None, record: Record,
                      group: str | None, key: list[str] | None = None) -> None:
        state = self._room(room)
        _check_held([item[1] for item in insert], [item[3] for item in insert])
        self._check_order(state, session, order_base)
        gone = set(delete)
        missing = [i for i, row in zip(delete, state.table.rows_of(delete).tolist()) if row < 0]
        if missing:
            raise Failure.FRAMES_MISSING.error(missing=missing,
                                               current_version=state.order_version)
        for frame_id, *_ in update:
            if frame_id in gone:
                raise Failure.SPLICE_OVERLAP.error(id=frame_id)
        self._check_update(room, update, session, record)
        length = len(state.table) - len(gone)
        rows = state.table.rows_of([item[1] for item in insert]).tolist()
        seen = set()
        for offset, ((index, frame_id, *_rest), row) in enumerate(zip(insert, rows)):
            if not 0 <= index <= length + offset:
                raise Failure.INSERT_POSITION.error(index=index)
            if (row >= 0 and frame_id not in gone) or frame_id in seen:
                raise Failure.FRAME_EXISTS.error(id=frame_id)
            seen.add(frame_id)

    def _apply_splice(self, room: str, delete: list[str], insert: list, update: list,
                      session: str, order_base: int | None, record: Record,
                      group: str | None, key: list[str] | None = None) -> Commit:
        state = self._rooms[room]
        table = state.table
        inverse_update, versions = [], []
        for (frame_id, _, hash_, location), row in zip(
                update, table.rows_of([change[0] for change in update]).tolist()):
            version, old_hash, old_location = self._update_frame(state, row, hash_, location)
            inverse_update.append([frame_id, hash_, old_hash, old_location])
            versions.append(version)
        positions, removed = table.remove(np.unique(table.rows_of(delete)))
        inverse_insert = [[p, *ref] for p, ref in zip(positions, removed)]
        self._insert_runs(state, insert)
        state.order_version += 1
        inserted_ids = [item[1] for item in insert]
        self._record(state, session, record, {"op": "splice", "delete": inserted_ids,
                                              "insert": inverse_insert,
                                              "update": inverse_update}, group)
        updated_ids = [change[0] for change in update]
        updated = table.positions(table.rows_of(updated_ids)).tolist() if update else []
        event = self._emit(state, {
            "type": "frames_spliced", "room": room, "deleted": positions,
            "deleted_ids": [item[1] for item in inverse_insert],
            "inserted": [item[0] for item in insert], "inserted_ids": inserted_ids,
            "updated": updated, "updated_ids": updated_ids,
            "order_version": state.order_version, "length": len(table),
        })
        return self._remember(state, key, Commit(state.seq, state.order_version, versions,
                                                 [event]), versions)

    async def frame_history(self, room: str, frame_id: str) -> list[dict[str, Any]]:
        state = self._room(room)
        row = state.table.row(frame_id)
        if row < 0:
            raise Failure.NO_FRAME.error(id=frame_id, room=room)
        return [{"version": v, "hash": h} for v, h in state.table.history(row)]

    async def locations(self, hashes: Sequence[str]) -> dict[str, str]:
        keys, held = lookup_keys(list(hashes), hashes=True)
        found = self._known.lookup(keys)
        found[~held] = -1
        decode = self._segments.decode
        return {h: decode(code) for h, code in zip(hashes, found.tolist()) if code >= 0}

    async def live_segments(self) -> set[str]:
        rooms = self._rooms.values()
        codes = np.concatenate([np.empty(0, np.int64), *(r.table.live_locations() for r in rooms)])
        return self._segments.segments(codes) | segments_in([r.unpacked_records() for r in rooms])

    @_change
    async def forget_segments(self, segments: set[str]) -> None:
        await self._log("forget_segments", sorted(segments))

    def _apply_forget_segments(self, segments: list[str]) -> None:
        self._known.merge()
        self._known.drop(self._segments.dead(self._known.values, set(segments)))

    # -- backup ---------------------------------------------------------------------------
    async def export_state(self) -> dict[str, Any]:
        rooms = [{
            "name": r.name, "created": r.created, "seq": r.seq,
            "order_version": r.order_version, "step": r.step,
            **dict(zip(("order", "frames", "history"), r.table.export(), strict=True)),
            "events": r.logged_events(),
            "records": r.unpacked_records(),
            "owner": r.owner, "grants": r.grants,
            "description": r.fields.get("description", ""), "expires": r.fields.get("expires"),
            "shared": {kind: entries for kind, entries in r.shared.items() if entries},
        } for r in self._rooms.values()]
        state = {"default": self._default, "hashes": self._hashes(), "rooms": rooms}
        return msgpack.unpackb(msgpack.packb(state), strict_map_key=False)  # a deep copy

    @_change
    async def import_state(self, state: dict[str, Any]) -> None:
        copy = msgpack.unpackb(msgpack.packb(state), strict_map_key=False)
        await self._log("import_state", copy)

    def _check_import_state(self, state: dict[str, Any]) -> None:
        if self._rooms:
            raise Failure.NOT_EMPTY.error(rooms=len(self._rooms))

    def _apply_import_state(self, state: dict[str, Any]) -> None:
        for r in state["rooms"]:
            room = _Room(r["name"], r["created"],
                         self._table(r["order"], r["frames"], r["history"]),
                         r["order_version"], r["seq"], r["step"],
                         owner=r.get("owner"), grants=dict(r.get("grants") or {}))
            for event in r["events"]:
                room.log_event(event)
            room.records = _stacks(r["records"])
            room.fields = {"description": r.get("description") or "", "expires": r.get("expires")}
            room.shared = {kind: dict(entries) for kind, entries in (r.get("shared") or {}).items()}
            self._rooms[room.name] = room
        self._add_known(state["hashes"])
        self._default = state["default"]

    # -- shared annotations ---------------------------------------------------------------
    @_change
    async def set_shared(self, room: str, kind: str, key: str, value: Any
                         ) -> dict[str, Any] | None:
        if value is None and key not in self._room(room).shared.get(kind, {}):
            return None  # nothing to delete
        await self._log("set_shared", room, kind, key, value)
        return self._emit(self._rooms[room], {"type": kind, "room": room, "key": key,
                                              "value": value}, data=False)

    def _check_set_shared(self, room: str, kind: str, key: str, value: Any) -> None:
        entries = self._room(room).shared.get(kind, {})
        limit = SHARED_KINDS[kind]
        if value is not None and key not in entries and len(entries) >= limit:
            raise Failure.TOO_MANY.error(kind=kind, limit=limit)

    def _apply_set_shared(self, room: str, kind: str, key: str, value: Any) -> None:
        entries = self._rooms[room].shared.setdefault(kind, {})
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value

    async def shared(self, room: str, kind: str) -> dict[str, Any]:
        return dict(self._room(room).shared.get(kind, {}))

    def _hashes(self) -> dict[str, str]:
        """Every known content hash and its location."""
        self._known.merge()
        decode = self._segments.decode
        return {hash_text(h): decode(code)
                for h, code in zip(self._known.keys.tolist(), self._known.values.tolist())}

    # -- undo / redo ----------------------------------------------------------------------
    @_change
    async def pop_record(self, room: str, session: str, stack: Literal["undo", "redo"]
                         ) -> dict[str, Any] | None:
        state = self._room(room)
        if not state.stack(session, stack):
            return None
        return await self._log("pop_record", room, session, stack)

    def _apply_pop_record(self, room: str, session: str, stack: str) -> dict[str, Any]:
        return self._rooms[room].stack(session, stack).pop()

    @_change
    async def push_record(self, room: str, session: str, stack: Literal["undo", "redo"],
                          record: dict[str, Any]) -> None:
        await self._log("push_record", room, session, stack, record)

    def _check_push_record(self, room: str, *_: Any) -> None:
        self._room(room)

    def _apply_push_record(self, room: str, session: str, stack: str, record: dict) -> None:
        self._rooms[room].stack(session, stack).append(record)

    # -- leases (in memory only, never journalled: not changes, and not serialised with them:
    # an acquisition cancelled with its connection must grant nothing) --------------------
    async def acquire(self, room: str, target: str, session: str, ttl: float,
                      user: str | None = None) -> Lease:
        state = self._room(room)
        self._check_lease(room, target, session)
        lease = Lease(room, target, session, time.time() + ttl, user)
        is_new = self._holder(room, target) is None
        self._leases[(room, target)] = lease
        if is_new:
            self._emit(state, {"type": "lease", "room": room, **_lease_event(lease)}, data=False)
        return lease

    async def renew(self, room: str, target: str, session: str, ttl: float) -> Lease:
        self._room(room)
        lease = self._holder(room, target)
        if lease is None:
            raise Failure.NO_LEASE.error(target=target)
        if lease.holder != session:
            raise Failure.HELD.error(holder=lease.holder, target=target)
        lease = Lease(room, target, session, time.time() + ttl, lease.user)
        self._leases[(room, target)] = lease
        return lease

    async def release(self, room: str, target: str, session: str) -> bool:
        lease = self._holder(room, target)
        if lease is None or lease.holder != session:
            if lease is not None:
                raise Failure.HELD.error(holder=lease.holder, target=target)
            return False
        del self._leases[(room, target)]
        if room in self._rooms:
            self._emit(self._rooms[room], {"type": "lease", "room": room, "target": target,
                                           "holder": None, "expires": None}, data=False)
        return True

    async def release_all(self, session: str) -> list[Lease]:
        mine = [lease for lease in self._leases.values()
                if lease.holder == session and lease.expires > time.time()]
        for lease in mine:
            await self.release(lease.room, lease.target, session)
        return mine

    async def leases(self, room: str) -> list[Lease]:
        self._room(room)
        return [
            lease for (r, target) in list(self._leases)
            if r == room and (lease := self._holder(r, target)) is not None
        ]

    async def set_step(self, room: str, step: int, session: str) -> int:
        state = self._room(room)
        lease = self._holder(room, PRESENTER)
        if lease is None or lease.holder != session:
            raise Failure.NOT_PRESENTER.error(holder=lease.holder if lease else None,
                                              target=PRESENTER)
        if not 0 <= step < max(len(state.table), 1):
            raise Failure.STEP_RANGE.error(step=step, length=len(state.table))
        state.step = step
        self._emit(state, {"type": "step", "room": room, "step": step, "holder": session},
                   data=False)
        return step

    async def expire_leases(self) -> list[Lease]:
        now = time.time()
        expired = [lease for lease in self._leases.values() if lease.expires <= now]
        for lease in expired:
            del self._leases[(lease.room, lease.target)]
            if lease.room in self._rooms:
                self._emit(self._rooms[lease.room], {
                    "type": "lease", "room": lease.room, "target": lease.target, "holder": None,
                    "expires": None, "expired": lease.holder}, data=False)
        for room, session in [key for key, until in self._present_until.items() if until <= now]:
            if room in self._rooms:
                await self.presence(room, session, None)
            else:  # the room was deleted meanwhile
                del self._present_until[(room, session)]
        return expired

    async def presence(self, room: str, session: str, user: str | None,
                       ttl: float = PRESENCE_TTL) -> list[dict[str, Any]]:
        state = self._room(room)
        present = self._present.setdefault(room, {})
        if user is None:
            self._present_until.pop((room, session), None)
            changed = present.pop(session, None) is not None
        else:
            self._present_until[(room, session)] = time.time() + ttl
            changed = session not in present
            present[session] = {"session": session, "user": user}
        if changed:
            self._emit(state, {"type": "presence", "room": room, "session": session,
                               "user": user, "present": user is not None}, data=False)
        return list(present.values())

    # -- server processes -----------------------------------------------------------------
    async def heartbeat(self, process: str, ttl: float = HEARTBEAT_TTL) -> None:
        self._heartbeats[process] = time.time() + ttl

    async def attach(self, process: str, session: str) -> None:
        self._process_of[session] = process

    async def detach(self, process: str, session: str) -> None:
        if self._process_of.get(session) == process:
            del self._process_of[session]

    async def expire_processes(self, sweeper: str) -> list[str]:
        now = time.time()
        dead = [process for process, until in self._heartbeats.items()
                if until <= now and process != sweeper]
        for process in dead:
            del self._heartbeats[process]
            for session in [s for s, p in self._process_of.items() if p == process]:
                del self._process_of[session]
                for lease in [lease for lease in self._leases.values() if lease.holder == session]:
                    del self._leases[(lease.room, lease.target)]
                    if lease.room in self._rooms:
                        self._emit(self._rooms[lease.room], {
                            "type": "lease", "room": lease.room, "target": lease.target,
                            "holder": None, "expires": None, "expired": session}, data=False)
                for room, present in list(self._present.items()):
                    if session in present and room in self._rooms:
                        await self.presence(room, session, None)
        return dead

    # -- events ---------------------------------------------------------------------------
    async def events_since(self, room: str, seq: int) -> list[dict[str, Any]] | None:
        state = self._room(room)
        if seq >= state.seq:
            return []
        if not state.events or state.events[0][0] > seq + 1:
            return None
        return state.logged_events(bisect.bisect_right([s for s, _ in state.events], seq))

    async def subscribe(self, room: str) -> QueueSubscription:
        subscribers = self._subscribers.setdefault(room, set())
        subscription = QueueSubscription(subscribers.discard)
        subscribers.add(subscription)
        return subscription

    async def publish(self, room: str, event: dict[str, Any]) -> None:
        self._emit(self._room(room), {**event, "room": room}, data=False)


def _check_held(ids: list[str], hashes: list[str]) -> None:
    """Raise ``ValueError`` unless the columns can hold ``ids`` and ``hashes`` (see
    :mod:`.columns`): checked before the journal takes a record, so replay never fails."""
    ids_array(ids)
    hashes_array(hashes)


def _deletes_only(record: dict[str, Any]) -> bool:
    """Whether an undo record is a splice that only deletes frames (mergeable in a group)."""
    return record.get("op") == "splice" and not record["insert"] and not record["update"]


def _key(key: Idempotency | None) -> list[str] | None:
    """``key`` as a journal record stores it."""
    return None if key is None else [key.key, key.digest]


def _lease_event(lease: Lease) -> dict[str, Any]:
    return {"target": lease.target, "holder": lease.holder, "expires": lease.expires,
            "user": lease.user}
