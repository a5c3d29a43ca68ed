"""The room service: the commit protocol on top of a state backend and a data provider.

New data is written to storage first (content-addressed: frames whose content is already
stored are not written again), then one atomic state commit makes it visible. A crash
between the two leaves only unreferenced data, never a partial frame.

Why one file over 400 lines: ``RoomService`` is by design the only way into rooms: every
operation, each asking the policy, claiming the session and honouring idempotency keys,
stands in this one class.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import codec
from .cache import ByteLRU
from .caller import Caller
from .errors import BadRequest, Conflict, Locked, NotFound
from .frames import FrameBatch
from .limits import Limits
from .metrics import Metrics
from .policy import AccessPolicy, Action, Policy, Role, check_grants
from .sessions import SessionClaims
from .shared import BOOKMARK, SELECTION, check_bookmark, check_bookmark_name, check_selection
from .state.base import (
    ORDER,
    Commit,
    FrameRef,
    Idempotency,
    IndexSpec,
    Lease,
    Resolved,
    RoomInfo,
    SliceSpec,
    Store,
    check_room_name,
)
from .storage import DataProvider, FieldInfo

SMALL_BODY = 1 << 20  # reads up to this size are sent (and cached) as one joined body
EVERY_ROOM = 1 << 30  # a list_rooms limit beyond any number of rooms
DEFAULT = object()  # "no base given": start from the default room, if one is set


def new_frame_ids(count: int) -> list[str]:
    return [secrets.token_hex(8) for _ in range(count)]


@dataclass
class FrameRead:
    """An encoded read of frames, ready to send: ``pieces`` make up one message."""

    pieces: list[bytes | memoryview]
    etag: str
    resolved: Resolved

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)


@dataclass(frozen=True)
class Described:
    """The fields a room's frames carry, at the room's ``length`` and ``seq``."""

    length: int
    seq: int
    fields: dict[str, FieldInfo]


class RoomService:
    """Room operations shared by every way of serving them: the only way to a room.

    Every operation names its :class:`~zndraw_widget.caller.Caller` and first asks the
    ``policy`` whether that caller may do it (:mod:`zndraw_widget.policy`; by default
    the rooms' owners and grants decide); one that writes also claims the caller's
    session for its user (:mod:`zndraw_widget.sessions`). A write given an idempotency
    ``key`` that was already applied returns the first result, before any other check (see
    :meth:`Store.recall <zndraw_widget.state.base.Store.recall>`). Writes and reads stay
    within ``limits`` (:mod:`zndraw_widget.limits`).
    """

    def __init__(self, store: Store, storage: DataProvider, *, cache_bytes: int = 256 << 20,
                 lease_ttl: float = 10.0, policy: Policy | None = None,
                 metrics: Metrics | None = None, ephemeral_ttl: float = 3600.0,
                 limits: Limits | None = None) -> None:
        self.store = store
        self.metrics = metrics or Metrics()
        self.storage = storage
        self.lease_ttl = lease_ttl
        #: Seconds an ephemeral room outlives the last view or kernel that had it open.
        self.ephemeral_ttl = ephemeral_ttl
        self.policy: Policy = policy or AccessPolicy(store)
        self.sessions = SessionClaims(store)
        self.limits = limits or Limits()
        self._encoded: ByteLRU[bytes] = ByteLRU(cache_bytes)
        self._described: ByteLRU[Described] = ByteLRU(
            4 << 20, size_of=lambda described: 256 * (len(described.fields) + 1))

    async def _room(self, caller: Caller, action: Action, name: Any) -> str:
        """``name`` checked as a room name, once ``caller`` may do ``action`` to it."""
        room = check_room_name(name)
        await self.policy.check(caller, action, room)
        if action is Action.WRITE:
            await self.sessions.claim(caller)
        return room

    # -- rooms ----------------------------------------------------------------------------
    async def create_room(self, caller: Caller, name: str, base: Any = DEFAULT, *,
                          description: str = "", ephemeral: bool = False) -> RoomInfo:
        """Create ``name``: empty (``base=None``), a copy of room ``base`` (no data is
        copied: the new frames point at the same stored content), or of the default room.

        An ``ephemeral`` room is deleted ``ephemeral_ttl`` seconds after the last view or
        kernel left it (see :meth:`expire_rooms`), unless it is kept
        (:meth:`set_room_fields`)."""
        name = await self._room(caller, Action.CREATE, name)
        if base is DEFAULT:
            base = await self.store.get_default_room()
        copy_of: list[FrameRef] = []
        if base is not None:
            base = await self._room(caller, Action.READ, base)
            copy_of = (await self.store.resolve(base, SliceSpec(None, None, None))).refs
        info = await self.store.create_room(name, copy_of, new_frame_ids(len(copy_of)),
                                            time.time(), owner=caller.user)
        fields: dict[str, Any] = {}
        if description:
            fields["description"] = _description(description)
        if ephemeral:
            fields["expires"] = time.time() + self.ephemeral_ttl
        if fields:
            info = await self.store.set_room_fields(name, fields)
        info.role = Role.ADMIN.label
        return info

    async def set_room_fields(self, caller: Caller, room: str, *, description: Any = None,
                              keep: bool = False) -> RoomInfo:
        """Set the room's ``description``; ``keep`` makes an ephemeral room permanent."""
        room = await self._room(caller, Action.WRITE, room)
        fields: dict[str, Any] = {}
        if description is not None:
            fields["description"] = _description(description)
        if keep:
            fields["expires"] = None
        if fields:
            await self.store.set_room_fields(room, fields)
        return await self.room_info(caller, room)

    async def expire_rooms(self) -> list[str]:
        """Delete the ephemeral rooms nobody had open for ``ephemeral_ttl`` seconds (their
        data goes with the next :meth:`reclaim`); extend those someone has open."""
        deleted = []
        for name in await self.store.expire_rooms(time.time(), self.ephemeral_ttl):
            try:
                await self.store.delete_room(name)
            except NotFound:  # another process was first
                continue
            deleted.append(name)
        return deleted

    async def room_info(self, caller: Caller, room: str) -> RoomInfo:
        """The room's counters, its access (``owner``, ``grants``) and the caller's
        ``role`` in it."""
        room = check_room_name(room)
        role = await self.policy.check(caller, Action.READ, room)
        info = await self.store.room_info(room)
        info.role = role.label
        return info

    async def set_access(self, caller: Caller, room: str, grants: Any,
                         owner: Any = DEFAULT) -> RoomInfo:
        """Replace the room's ``grants`` (``user:<name>``, ``group:<name>`` or ``*`` to
        ``read``, ``write`` or ``admin``) and, if given, its ``owner``; tell the room."""
        room = await self._room(caller, Action.ADMIN, room)
        grants = check_grants(grants)
        if owner is DEFAULT:
            owner = (await self.store.room_info(room)).owner
        elif not isinstance(owner, str) or not 0 < len(owner) <= 100 or not owner.isprintable():
            raise BadRequest("'owner' must be a user name")
        await self.store.set_access(room, owner, grants)
        return await self.room_info(caller, room)

    async def delete_room(self, caller: Caller, room: str) -> None:
        await self.store.delete_room(await self._room(caller, Action.ADMIN, room))

    async def list_rooms(self, caller: Caller, offset: int = 0, limit: int = 100
                         ) -> tuple[int, list[RoomInfo]]:
        if offset < 0 or not 1 <= limit <= 1000:
            raise BadRequest("offset must be >= 0 and limit between 1 and 1000")
        await self.policy.check(caller, Action.LIST, None)
        if caller.admin:
            total, rooms = await self.store.list_rooms(offset, limit)
        else:  # only the rooms the caller may read
            _, every = await self.store.list_rooms(0, EVERY_ROOM)
            readable = [room for room in every if self.policy.visible(caller, room) >= Role.READ]
            total, rooms = len(readable), readable[offset : offset + limit]
        for room in rooms:
            room.role = self.policy.visible(caller, room).label
        return total, rooms

    async def get_default_room(self, caller: Caller) -> str | None:
        """The room new rooms copy by default (None: they start empty)."""
        await self.policy.check(caller, Action.READ, None)
        return await self.store.get_default_room()

    async def set_default_room(self, caller: Caller, room: str | None) -> None:
        if room is not None:
            room = check_room_name(room)
        await self.policy.check(caller, Action.ADMIN, None)
        await self.store.set_default_room(room)

    async def ping(self) -> None:
        """Raise :class:`~zndraw_widget.errors.BackendUnavailable` while the state backend
        cannot be reached."""
        await self.store.ping()

    # -- reading --------------------------------------------------------------------------
    async def read(self, caller: Caller, room: str, spec: IndexSpec,
                   fields: Sequence[str] | None = None, optional: frozenset[str] = frozenset()
                   ) -> FrameRead:
        """The selected frames, encoded as one columnar message (see docs/protocol.md);
        of ``fields``, those in ``optional`` may be missing from every frame.

        A single frame's message is cached; it states the room's length, seq and the frame's
        index, so it is cached under those too."""
        resolved = await self.store.resolve(await self._room(caller, Action.READ, room), spec)
        field_key = None if fields is None else (tuple(fields), tuple(sorted(optional)))
        etag = _etag(resolved.refs, field_key)
        key = None
        if len(resolved.refs) == 1:
            ref = resolved.refs[0]
            key = (ref.id, ref.version, resolved.indices[0], resolved.seq, field_key)
            body = self._encoded.get(key)
            if body is not None:
                return FrameRead([body], etag, resolved)
        locations = [ref.location for ref in resolved.refs]
        if fields is not None:
            known = self.storage.fields(locations)
            unknown = set(fields) - optional - known
            if unknown and locations:
                raise BadRequest(f"unknown fields {sorted(unknown)}", available=sorted(known))
        pieces = await in_thread(self._read_encoded, resolved, fields, big=len(locations) > 1)
        if key is not None and len(pieces) == 1 and len(pieces[0]) <= SMALL_BODY:
            self._encoded.put(key, pieces[0])
        return FrameRead(pieces, etag, resolved)

    def _read_encoded(self, resolved: Resolved, fields: Sequence[str] | None
                      ) -> list[bytes | memoryview]:
        """Read and encode the frames of ``resolved`` within the response limit (blocking:
        a big read runs in a thread); a small body is joined into one piece."""
        read = functools.partial(self.storage.read, fields=fields)
        batch = self.limits.read(read, [ref.location for ref in resolved.refs])
        pieces = codec.encode_pieces(_read_message(resolved, batch))
        size = sum(len(piece) for piece in pieces)
        self.limits.check_response(size)
        return [b"".join(pieces)] if size <= SMALL_BODY else pieces

    async def describe(self, caller: Caller, room: str) -> Described:
        """The fields the room's frames carry (dtype and largest per-frame shape): what a
        viewer may plot or colour by. Remembered per room until its ``seq`` changes (the
        room's data at one ``seq`` never changes)."""
        name = await self._room(caller, Action.READ, room)
        info = await self.store.room_info(name)
        key = (name, info.created, info.seq)
        known = self._described.get(key)
        if known is not None:
            return known
        resolved = await self.store.resolve(name, SliceSpec(None, None, None))
        locations = [ref.location for ref in resolved.refs]
        fields = await in_thread(self.storage.describe, locations, big=len(locations) > 1000)
        described = Described(resolved.length, resolved.seq, fields)
        if resolved.seq == info.seq:
            self._described.put(key, described)
        return described

    async def resolve(self, caller: Caller, room: str, spec: IndexSpec) -> Resolved:
        """Where the frames ``spec`` selects are stored, as of now: for reading them chunk
        by chunk (``storage.read``), as an export does. Stored frames are immutable, so the
        read sees this state while the room changes (but the data of frames deleted
        meanwhile may be reclaimed a ``reclaim`` later: such a read then fails)."""
        return await self.store.resolve(await self._room(caller, Action.READ, room), spec)

    async def read_batch(self, caller: Caller, room: str, spec: IndexSpec,
                         fields: Sequence[str] | None = None) -> tuple[Resolved, FrameBatch]:
        """The selected frames as a :class:`FrameBatch` (for in-process use)."""
        resolved = await self.store.resolve(await self._room(caller, Action.READ, room), spec)
        read = functools.partial(self.storage.read, fields=fields)
        batch = await in_thread(self.limits.read, read, [r.location for r in resolved.refs])
        return resolved, batch

    # -- writing --------------------------------------------------------------------------
    async def _store_batch(self, batch: FrameBatch) -> list[tuple[str, str]]:
        """Write the content of ``batch`` that is not stored yet; ``(hash, location)`` each."""
        hashes = await in_thread(batch.hashes, big=len(batch) > 100 or batch.nbytes > SMALL_BODY)
        known = await self.store.locations(hashes)
        fresh: dict[str, int] = {}
        for row, hash_ in enumerate(hashes):
            if hash_ not in known and hash_ not in fresh:
                fresh[hash_] = row
        if fresh:
            rows = list(fresh.values())
            part = batch if len(rows) == len(batch) else batch.take(rows)
            locations = await in_thread(self.storage.write, part, big=part.nbytes > (1 << 20))
            known.update(zip(fresh, locations))
        return [(h, known[h]) for h in hashes]

    async def insert(self, caller: Caller, room: str, batch: FrameBatch, *, index: int | None,
                     order_base: int, key: Idempotency | None = None) -> Commit:
        """Insert ``batch`` at ``index`` (append when None), based on order ``order_base``;
        an empty batch changes nothing."""
        self.limits.check_write(batch)
        room = await self._room(caller, Action.WRITE, room)
        if (done := await self._recall(room, key)) is not None:
            return done
        info = await self.store.room_info(room)
        if index is None:
            index = info.length
        if not 0 <= index <= info.length:
            raise IndexError(f"insert position {index} out of range for {info.length} frames")
        if info.order_version != order_base:
            await self._order_conflict(room, info.order_version, order_base, caller.session)
        if not len(batch):
            return Commit(info.seq, info.order_version)
        stored = await self._store_batch(batch)
        ids = new_frame_ids(len(batch))
        items = [(index + k, FrameRef(ids[k], 1, h, loc)) for k, (h, loc) in enumerate(stored)]
        return self._counted("insert", await self.store.insert(
            room, items, session=caller.session, order_base=order_base, key=key))

    async def replace(self, caller: Caller, room: str, index: int, batch: FrameBatch, *,
                      base_version: int, partial: bool = False, frame_id: str | None = None,
                      key: Idempotency | None = None) -> Commit:
        """Replace frame ``index`` (or, with ``partial``, some of its fields).

        ``frame_id``, when given, must be the id of the frame at ``index``: a writer whose
        view of the order is stale then gets a conflict instead of editing another frame.
        """
        if len(batch) != 1:
            raise BadRequest(f"a frame update carries exactly one frame, not {len(batch)}")
        self.limits.check_write(batch)
        room = await self._room(caller, Action.WRITE, room)
        if (done := await self._recall(room, key)) is not None:
            return done
        resolved = await self.store.resolve(room, [index])
        ref = resolved.refs[0]
        if frame_id is not None and ref.id != frame_id:
            raise Conflict(f"frame {index} is now frame {ref.id}, not {frame_id}: the order "
                           "changed; re-read the room", current_version=ref.version, id=ref.id)
        if ref.version != base_version:
            raise Conflict(f"frame {index} is at version {ref.version}, the change was based on "
                           f"{base_version}", current_version=ref.version, id=ref.id)
        if partial:
            current = await in_thread(self.storage.read, [ref.location])
            batch = current.merge(batch)
            batch.validate()
        ((hash_, location),) = await self._store_batch(batch)
        return self._counted("replace", await self.store.update(
            room, [(ref.id, base_version, hash_, location)], session=caller.session, key=key))

    async def delete(self, caller: Caller, room: str, spec: IndexSpec, *, order_base: int,
                     key: Idempotency | None = None) -> Commit:
        room = await self._room(caller, Action.WRITE, room)
        if (done := await self._recall(room, key)) is not None:
            return done
        resolved = await self.store.resolve(room, spec)
        if resolved.order_version != order_base:
            await self._order_conflict(room, resolved.order_version, order_base, caller.session)
        ids = list(dict.fromkeys(ref.id for ref in resolved.refs))
        if not ids:
            return Commit(resolved.seq, resolved.order_version)
        return self._counted("delete", await self.store.delete(
            room, ids, session=caller.session, order_base=order_base, key=key))

    async def splice(self, caller: Caller, room: str, *, delete: IndexSpec | None,
                     update: Sequence[int], insert: Sequence[int], batch: FrameBatch | None,
                     order_base: int, group: str | None = None,
                     key: Idempotency | None = None) -> Commit:
        """One atomic change: replace the frames at positions ``update`` (of the current
        order), delete the frames ``delete`` selects, then insert frames at positions
        ``insert`` (each in turn, as ``list.insert``). ``batch`` holds the new frames: those
        of ``update``, then those of ``insert``. One commit, one undo record; ``group``
        merges the undo records of an insert-only change sent in several commits."""
        room = await self._room(caller, Action.WRITE, room)
        if (done := await self._recall(room, key)) is not None:
            return done
        count = len(batch) if batch is not None else 0
        if batch is not None:
            self.limits.check_write(batch)
        if count != len(update) + len(insert):
            raise BadRequest(f"{count} frames sent for {len(update)} updates and "
                             f"{len(insert)} inserts")
        if len(set(update)) != len(update):
            raise BadRequest("a position is updated twice")
        deleted: list[FrameRef] = []
        if delete is not None:
            resolved = await self.store.resolve(room, delete)
            if resolved.order_version != order_base:
                await self._order_conflict(room, resolved.order_version, order_base,
                                           caller.session)
            deleted = resolved.refs
        updated: list[FrameRef] = []
        if update:
            resolved = await self.store.resolve(room, list(update))
            if resolved.order_version != order_base:
                await self._order_conflict(room, resolved.order_version, order_base,
                                           caller.session)
            updated = resolved.refs
        if not (deleted or updated or insert):
            info = await self.store.room_info(room)
            return Commit(info.seq, info.order_version)
        stored = await self._store_batch(batch) if count else []
        changes = [(ref.id, ref.version, h, loc) for ref, (h, loc) in zip(updated, stored)]
        ids = new_frame_ids(len(insert))
        items = [(index, FrameRef(ids[k], 1, h, loc))
                 for k, (index, (h, loc)) in enumerate(zip(insert, stored[len(updated):]))]
        return self._counted("splice", await self.store.splice(
            room, list(dict.fromkeys(r.id for r in deleted)), items, changes,
            session=caller.session, order_base=order_base, group=group, key=key))

    async def _order_conflict(self, room: str, current: int, base: int, session: str) -> None:
        """Raise why a structural write based on ``base`` cannot go on: the order lease held
        by someone else (423) takes precedence over the stale version (409)."""
        for lease in await self.store.leases(room):
            if lease.target == ORDER and lease.holder != session:
                raise Locked(f"the frame order is locked by {lease.holder}",
                             holder=lease.holder, target=ORDER, expires=lease.expires)
        raise Conflict(f"the frame order is at version {current}, the change was based on "
                       f"{base}", current_version=current)

    # -- history --------------------------------------------------------------------------
    async def history(self, caller: Caller, room: str, index: int) -> list[dict[str, Any]]:
        room = await self._room(caller, Action.READ, room)
        resolved = await self.store.resolve(room, [index])
        return await self.store.frame_history(room, resolved.refs[0].id)

    async def undo(self, caller: Caller, room: str, key: Idempotency | None = None) -> Commit:
        """Reverse the caller's session's last change in ``room`` as a new commit."""
        return await self._replay(caller, room, "undo", key)

    async def redo(self, caller: Caller, room: str, key: Idempotency | None = None) -> Commit:
        return await self._replay(caller, room, "redo", key)

    async def _replay(self, caller: Caller, room: str, stack: Literal["undo", "redo"],
                      key: Idempotency | None) -> Commit:
        room = await self._room(caller, Action.WRITE, room)
        if (done := await self._recall(room, key)) is not None:
            return done
        session = caller.session
        record = await self.store.pop_record(room, session, stack)
        if record is None:
            raise NotFound(f"nothing to {stack} in room {room!r} for this session")
        try:
            if record["op"] == "splice":
                items = [(i, FrameRef(fid, v + 1, h, loc)) for i, fid, v, h, loc in record["insert"]]
                commit = await self.store.splice(
                    room, record["delete"], items, [tuple(c) for c in record["update"]],
                    session=session, order_base=None, record=stack, key=key)
            elif record["op"] == "delete":
                commit = await self.store.delete(room, record["ids"], session=session,
                                                 order_base=None, record=stack, key=key)
            elif record["op"] == "insert":
                items = [(i, FrameRef(fid, v + 1, h, loc)) for i, fid, v, h, loc in record["items"]]
                commit = await self.store.insert(room, items, session=session, order_base=None,
                                                 record=stack, key=key)
            else:
                changes = [(fid, expected, h, loc) for fid, expected, h, loc in record["frames"]]
                commit = await self.store.update(room, changes, session=session, record=stack,
                                                 key=key)
        except Exception:
            await self.store.push_record(room, session, stack, record)
            raise
        if commit.repeated:  # the same request, applied meanwhile: this record stays
            await self.store.push_record(room, session, stack, record)
        return self._counted(stack, commit)

    async def _recall(self, room: str, key: Idempotency | None) -> Commit | None:
        """The first result of a write already applied under ``key`` (see
        :meth:`Store.recall <zndraw_widget.state.base.Store.recall>`), if any."""
        return None if key is None else await self.store.recall(room, key)

    def _counted(self, op: str, commit: Commit) -> Commit:
        """``commit``, counted in the metrics unless it repeats an earlier one."""
        if not commit.repeated:
            self.metrics.commits.labels(op).inc()
        return commit

    async def reclaim(self, min_age: float = 600.0, settle: float = 60.0) -> int:
        """Delete stored segments that nothing refers to any more (frames, versions kept
        for undo, undo/redo records), written at least ``min_age`` seconds ago; return how
        many. Their content hashes are forgotten first, then, after ``settle`` seconds for
        writes that found them just before, whatever is still unreferenced is deleted."""
        live = await self.store.live_segments()
        ages = await in_thread(self.storage.segment_ages)
        dead = {segment for segment, age in ages.items() if age >= min_age} - live
        if not dead:
            return 0
        await self.store.forget_segments(dead)
        await asyncio.sleep(settle)
        dead -= await self.store.live_segments()
        await in_thread(self.storage.delete_segments, dead)
        return len(dead)

    # -- selections and bookmarks ---------------------------------------------------------
    async def selections(self, caller: Caller, room: str) -> dict[str, list[int]]:
        """Every user's selection of atoms in ``room``: ``{user: [index, ...]}``."""
        return await self.store.shared(await self._room(caller, Action.READ, room), SELECTION)

    async def set_selection(self, caller: Caller, room: str, atoms: Any) -> list[int]:
        """Share the caller's selection (their user's, one per user) with the room. A reader
        may: it changes no data."""
        atoms = check_selection(atoms)
        await self.store.set_shared(await self._room(caller, Action.READ, room), SELECTION,
                                    caller.user, atoms)
        return atoms

    async def bookmarks(self, caller: Caller, room: str) -> dict[str, dict[str, Any]]:
        """The room's bookmarks: ``{name: {"frame", "camera"}}``."""
        return await self.store.shared(await self._room(caller, Action.READ, room), BOOKMARK)

    async def set_bookmark(self, caller: Caller, room: str, name: Any, value: Any
                           ) -> dict[str, Any]:
        """Add or replace bookmark ``name``: a frame of the room and a camera (or None)."""
        name = check_bookmark_name(name)
        room = await self._room(caller, Action.WRITE, room)
        bookmark = check_bookmark(value, (await self.store.room_info(room)).length)
        await self.store.set_shared(room, BOOKMARK, name, bookmark)
        return bookmark

    async def delete_bookmark(self, caller: Caller, room: str, name: Any) -> None:
        name = check_bookmark_name(name)
        room = await self._room(caller, Action.WRITE, room)
        if await self.store.set_shared(room, BOOKMARK, name, None) is None:
            raise NotFound(f"room {room!r} has no bookmark {name!r}")

    # -- leases and step ------------------------------------------------------------------
    async def leases(self, caller: Caller, room: str) -> list[Lease]:
        return await self.store.leases(await self._room(caller, Action.READ, room))

    async def acquire(self, caller: Caller, room: str, target: str, ttl: float | None = None
                      ) -> Lease:
        room = await self._room(caller, Action.WRITE, room)
        return await self.store.acquire(room, target, caller.session, ttl or self.lease_ttl,
                                        caller.user)

    async def renew(self, caller: Caller, room: str, target: str, ttl: float | None = None
                    ) -> Lease:
        room = await self._room(caller, Action.WRITE, room)
        return await self.store.renew(room, target, caller.session, ttl or self.lease_ttl)

    async def release(self, caller: Caller, room: str, target: str) -> bool:
        room = await self._room(caller, Action.WRITE, room)
        return await self.store.release(room, target, caller.session)

    async def release_all(self, caller: Caller) -> list[Lease]:
        """Release every lease of the caller's session, in every room (it went away)."""
        await self.policy.check(caller, Action.WRITE, None)
        await self.sessions.claim(caller)
        return await self.store.release_all(caller.session)

    async def set_step(self, caller: Caller, room: str, step: int) -> int:
        """Move the room's shared step (the presenter's frame) to ``step``."""
        room = await self._room(caller, Action.WRITE, room)
        return await self.store.set_step(room, step, caller.session)

    async def events_since(self, caller: Caller, room: str, seq: int
                           ) -> list[dict[str, Any]] | None:
        return await self.store.events_since(await self._room(caller, Action.READ, room), seq)


def _description(description: Any) -> str:
    """``description`` if it can describe a room: a string of at most 10000 characters."""
    if not isinstance(description, str) or len(description) > 10_000:
        raise BadRequest("'description' must be a string of at most 10000 characters")
    return description


def _etag(refs: Iterable[FrameRef], fields: tuple[str, ...] | None) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(fields).encode())
    for ref in refs:
        digest.update(f"{ref.id}:{ref.version};".encode())
    return f'"{digest.hexdigest()}"'


def _read_message(resolved: Resolved, batch: FrameBatch) -> dict[str, Any]:
    return {
        "length": resolved.length,
        "seq": resolved.seq,
        "order_version": resolved.order_version,
        "indices": np.asarray(resolved.indices, dtype=np.int64),
        "ids": [ref.id for ref in resolved.refs],
        "versions": np.asarray([ref.version for ref in resolved.refs], dtype=np.int64),
        "hashes": [ref.hash for ref in resolved.refs],
        **batch.to_wire(),
    }


async def in_thread(function: Any, *args: Any, big: bool = True) -> Any:
    """Run blocking work off the event loop when it is big enough to matter."""
    if not big:
        return function(*args)
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)
