"""Room state in Redis, shared by every server process that uses the same Redis.

Each change is one Lua script (see :mod:`.scripts` and ``lua/``), so it is atomic and
raises the same failures as :class:`MemoryStore`. Times come from the Redis server's clock,
so several server processes agree on lease expiry.

Keys, all under the prefix (scripts build them from ``ARGV[1]``, so this needs a single
Redis, not a cluster):

- ``rooms``: sorted set of room names, all scored 0 (so ordered by name); ``default``
- ``room:{name}``: hash of seq, order_version, step, created, owner (absent: none),
  grants (JSON object), description, expires (of an ephemeral room; ``ephemeral`` scores
  the names of those rooms by it)
- ``room:{name}:order``: sorted set of the frame ids (packed) scored by position
  (fractional indexing)
- ``room:{name}:refs``: bucketed map frame id -> ``[version, hash, location]``, packed
  (``prelude.lua`` says how: ids, hashes and locations as the server makes them take 8, 32
  and 12 bytes; a bucketed map is small hashes that stay listpack-encoded)
- ``room:{name}:history:{id}``: list of JSON ``[version, hash, location]``, the past versions of a frame that
  has more than one: ``history_depth - 1`` while it is in the room, ``history_depth`` of a
  deleted one (its last version included)
- ``room:{name}:events``: list of the last ``EVENT_LOG_LENGTH`` data events (JSON); the
  channel of the same name carries every event of the room
- ``room:{name}:records:{session}:undo|redo``: lists of inverse changes (JSON)
- ``room:{name}:keys``: set of the room's history and record keys, for ``delete_room``
- ``room:{name}:presence``: hash session -> user; ``presence`` scores each JSON
  ``[room, session]`` by its expiry (ms), for the sweeper
- ``room:{name}:lease:{target}``: JSON ``{room, target, holder, expires}`` (expires in ms);
  ``room:{name}:leases`` is the set of its targets, ``session:{session}:leases`` the set of
  a session's lease keys and ``leases`` all lease keys scored by expiry, for the sweeper
- ``room:{name}:shared:{kind}``: hash key -> JSON value of the room's shared annotations
  (``SHARED_KINDS``: each user's selection, bookmarks by name)
- ``room:{name}:remembered``: hash idempotency key -> JSON ``[digest, seq, order_version,
  versions]``; ``room:{name}:remembered:keys`` the list of those keys, oldest first
- ``processes``: sorted set of server processes scored by their heartbeat's expiry (ms);
  ``process:{process}:sessions`` the sessions attached to one, ``session:{session}:process``
  the process a session is attached to, ``session:{session}:rooms`` the rooms it is present in
- ``contents``: bucketed map content hash -> location (packed), shared by all rooms
- ``session:{session}:user``: the user a session id is bound to (expires)
- ``format``: the layout of these keys (3; absent: 1, migrated on first use by
  ``lua/migrate.lua``)

Why one file over 400 lines: RedisStore is one short method per Lua script (state/redis/lua/)
plus the parsing of its reply; the scripts themselves live in their own files.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import operator
from collections.abc import Sequence
from typing import Any, Literal

import redis.asyncio
from redis.commands.core import AsyncScript
from redis.exceptions import (
    AuthenticationError,
    ConnectionError,
    NoScriptError,
    ResponseError,
    TimeoutError,
)

from ...errors import BackendUnavailable
from ..base import (
    HEARTBEAT_TTL,
    PRESENCE_TTL,
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
    SliceSpec,
    Store,
    remembered_commit,
    segments_in,
)
from ..failures import Failure
from . import scripts
from .connection import connect

log = logging.getLogger(__name__)

FORGET_BUCKETS = 256  # buckets of content hashes (~40 entries each) per forget_segments call


def _room_info(reply: list[Any]) -> RoomInfo:
    name, length, seq, order_version, step, created, owner, grants, description, expires = reply
    return RoomInfo(name, length, seq, order_version, step, float(created), description or "",
                    float(expires) if expires else None, owner,
                    json.loads(grants) if grants else {})


def _lease(value: str) -> Lease:
    lease = json.loads(value)
    return Lease(lease["room"], lease["target"], lease["holder"], lease["expires"] / 1000,
                 lease.get("user"))


def _commit(reply: list[Any], versions: list[int] | None) -> Commit:
    """A write's reply as a commit (``versions``: None to take them from its events); the
    remembered result for a repeated idempotency key (4 values: see ``prelude.lua``)."""
    if len(reply) == 4:
        seq, order_version, _, remembered = reply
        return remembered_commit(seq, order_version, json.loads(remembered))
    seq, order_version, events = reply
    events = [json.loads(e) for e in events]
    if versions is None:
        versions = [event["version"] for event in events]
    return Commit(seq, order_version, versions, events)


def _key(key: Idempotency | None) -> list[str]:
    """``key`` as the two ARGV of a write script ('' for none)."""
    return ["", ""] if key is None else [key.key, key.digest]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _pairs(flat: list[str]) -> dict[str, str]:
    """A dict from HGETALL's flat ``[key, value, ...]`` reply."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _exported_room(prefix: str, name: str, meta: list[str], order: list[str], frames: list[str],
                   events: list[str], lists: list[Any], shared: list[Any]) -> dict[str, Any]:
    """One room of the export_state script's reply in the form of ``Store.export_state``."""
    meta_of = _pairs(meta)
    history: dict[str, list[Any]] = {}
    records: dict[str, dict[str, list[Any]]] = {}
    for key, values in zip(lists[::2], lists[1::2], strict=True):
        decoded = [json.loads(v) for v in values]
        kind, _, rest = key[len(f"{prefix}room:{name}:"):].partition(":")
        if kind == "history":
            history[rest] = decoded
        else:  # records:{session}:undo|redo
            session, _, stack = rest.rpartition(":")
            records.setdefault(session, {"undo": [], "redo": []})[stack] = decoded
    current = {i: json.loads(v) for i, v in _pairs(frames).items()}
    for frame_id, ref in current.items():  # the history lists hold the past versions
        history.setdefault(frame_id, []).append(ref)
    return {
        "name": name, "created": float(meta_of["created"]), "seq": int(meta_of["seq"]),
        "order_version": int(meta_of["order_version"]), "step": int(meta_of["step"]),
        "order": order, "frames": current,
        "history": history, "events": [json.loads(e) for e in events], "records": records,
        "owner": meta_of.get("owner"), "grants": json.loads(meta_of.get("grants") or "{}"),
        "description": meta_of.get("description", ""),
        "expires": float(meta_of["expires"]) if "expires" in meta_of else None,
        "shared": {kind: {key: json.loads(value) for key, value in _pairs(entries).items()}
                   for kind, entries in zip(shared[::2], shared[1::2], strict=True) if entries},
    }


def _base(order_base: int | None) -> str:
    return "" if order_base is None else str(order_base)


def _unavailable_while_down(cls: type) -> type:
    """Make every public coroutine method of ``cls`` raise :class:`BackendUnavailable`
    (503) while Redis cannot be reached; the client reconnects on a later call."""

    def guarded(method):
        @functools.wraps(method)
        async def call(self, *args, **kwargs):
            try:
                return await method(self, *args, **kwargs)
            except (ConnectionError, TimeoutError) as error:
                if isinstance(error, AuthenticationError) or isinstance(
                        error.__cause__, AuthenticationError):
                    raise  # a wrong password is no outage: said as it is
                raise BackendUnavailable(
                    f"the room state (Redis) cannot be reached: {error}; retry later") from None

        return call

    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and name != "close" and inspect.iscoroutinefunction(method):
            setattr(cls, name, guarded(method))
    return cls


@_unavailable_while_down
class RedisStore(Store):
    """Room state in Redis at ``url`` (``redis://``, ``rediss://`` or ``unix://``).

    The connection is made on first use, inside the running event loop; while Redis is
    unreachable every operation raises :class:`BackendUnavailable`.
    """

    def __init__(self, url: str, prefix: str = "zdw:", history_depth: int = 100,
                 record_depth: int = 100) -> None:
        self.url = url
        self.prefix = prefix
        self.history_depth = history_depth
        self.record_depth = record_depth
        self._client: redis.asyncio.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._pubsub: redis.asyncio.client.PubSub | None = None
        self._reader: asyncio.Task | None = None
        self._subscribers: dict[str, set[QueueSubscription]] = {}  # channel -> subscriptions
        self._subscribed: dict[str, asyncio.Future] = {}  # channel -> SUBSCRIBE confirmed
        self._migrated = False  # the state is in this version's layout (lua/migrate.lua)

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:
            self._client = connect(self.url, decode_responses=True)
            self._scripts = scripts.register(self._client)
        return self._client

    async def _run(self, name: str, *args: Any, read_only: bool = False) -> Any:
        """Run the script ``lua/<name>.lua`` with the store's settings and then ``args``;
        ``read_only``: by EVALSHA_RO, for a script that only reads (Redis then holds it
        neither for ``CLIENT PAUSE WRITE`` nor on a read-only replica)."""
        client = self._redis()  # on first use: connect and register the scripts
        settings = [self.prefix, self.history_depth, self.record_depth]
        try:
            if not self._migrated:
                await self._scripts["migrate"](args=settings)
                self._migrated = True
            script = self._scripts[name]
            if not read_only:
                return await script(args=[*settings, *args])
            try:
                return await client.evalsha_ro(script.sha, 0, *settings, *args)
            except NoScriptError:
                await client.script_load(script.script)
                return await client.evalsha_ro(script.sha, 0, *settings, *args)
        except ResponseError as error:
            raise scripts.failure(error) from None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()
        self._client, self._pubsub, self._reader = None, None, None
        self._scripts.clear()
        self._subscribers.clear()
        self._subscribed.clear()

    async def ping(self) -> None:
        await self._redis().ping()

    async def claim_deployment(self, deployment: str) -> str:
        key = self.prefix + "deployment"
        await self._redis().set(key, deployment, nx=True)
        return await self._redis().get(key)

    # -- rooms ----------------------------------------------------------------------------
    async def create_room(self, name: str, copy_of: list[FrameRef], new_ids: list[str],
                          created: float, owner: str | None = None) -> RoomInfo:
        refs = [[r.version, r.hash, r.location] for r in copy_of]
        await self._run("create_room", name, json.dumps(refs), json.dumps(new_ids), created,
                        json.dumps(owner))
        return RoomInfo(name, min(len(refs), len(new_ids)), 0, 0, 0, created, owner=owner)

    async def delete_room(self, name: str) -> None:
        await self._run("delete_room", name)

    async def room_info(self, name: str) -> RoomInfo:
        return _room_info(await self._run("room_info", name))

    async def list_rooms(self, offset: int, limit: int) -> tuple[int, list[RoomInfo]]:
        total, rooms = await self._run("list_rooms", offset, limit)
        return total, [_room_info(room) for room in rooms]

    async def set_room_fields(self, name: str, fields: dict[str, Any]) -> RoomInfo:
        return _room_info(await self._run("set_room_fields", name, json.dumps(fields)))

    async def expire_rooms(self, now: float, extend: float) -> list[str]:
        return list(await self._run("expire_rooms", repr(now), repr(extend)))

    async def set_access(self, name: str, owner: str | None, grants: dict[str, str]
                         ) -> RoomInfo:
        return _room_info(await self._run("set_access", name, json.dumps(owner),
                                          json.dumps(grants)))

    async def claim_session(self, session: str, user: str, ttl: float) -> None:
        await self._run("claim_session", session, user, round(ttl * 1000))

    async def get_default_room(self) -> str | None:
        return await self._redis().get(self.prefix + "default")

    async def set_default_room(self, name: str | None) -> None:
        if name is None:
            await self._redis().delete(self.prefix + "default")
        else:
            await self._run("set_default_room", name)

    # -- frames ---------------------------------------------------------------------------
    async def resolve(self, room: str, spec: IndexSpec) -> Resolved:
        if isinstance(spec, SliceSpec):
            kind, values = "slice", [spec.start, spec.stop, spec.step]
        else:
            kind, values = "list", list(spec)
        length, seq, order_version, indices, ids, refs = await self._run(
            "resolve", room, kind, json.dumps(values, default=operator.index))
        found = [FrameRef(i, v, h, loc)
                 for i, (v, h, loc) in zip(json.loads(ids), json.loads(refs), strict=True)]
        return Resolved(length, seq, order_version, json.loads(indices), found)

    async def insert(self, room: str, items: list[tuple[int, FrameRef]], *, session: str,
                     order_base: int | None, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        wire = [[i, r.id, r.version, r.hash, r.location] for i, r in items]
        reply = await self._run("insert", room, json.dumps(wire, default=operator.index), session,
                                _base(order_base), record, *_key(key))
        return _commit(reply, [r.version for _, r in items])

    async def delete(self, room: str, ids: list[str], *, session: str,
                     order_base: int | None, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        reply = await self._run("delete", room, json.dumps(ids), session, _base(order_base),
                                record, *_key(key))
        return _commit(reply, [])

    async def update(self, room: str, changes: list[tuple[str, int, str, str]], *,
                     session: str, record: Record = "do",
                     key: Idempotency | None = None) -> Commit:
        reply = await self._run("update", room, json.dumps(changes, default=operator.index),
                                session, record, *_key(key))
        return _commit(reply, None)

    async def recall(self, room: str, key: Idempotency) -> Commit | None:
        value = await self._redis().hget(f"{self.prefix}room:{room}:remembered", key.key)
        if value is None:
            return None
        digest, seq, order_version, versions = json.loads(value)
        if digest != key.digest:
            raise Failure.KEY_REUSED.error(key=key.key)
        return remembered_commit(seq, order_version, versions)

    async def splice(self, room: str, delete: list[str], insert: list[tuple[int, FrameRef]],
                     update: list[tuple[str, int | str, str, str]], *, session: str,
                     order_base: int | None, record: Record = "do", group: str | None = None,
                     key: Idempotency | None = None) -> Commit:
        wire = [[i, r.id, r.version, r.hash, r.location] for i, r in insert]
        seq, order_version, events, versions = await self._run(
            "splice", room, json.dumps(list(delete)),
            json.dumps(wire, default=operator.index),
            json.dumps([list(c) for c in update], default=operator.index), session,
            _base(order_base), record, group or "", *_key(key))
        if not events:  # a repeated key: the first splice's result
            return remembered_commit(seq, order_version, json.loads(versions))
        return Commit(seq, order_version, json.loads(versions), [json.loads(e) for e in events])

    async def frame_history(self, room: str, frame_id: str) -> list[dict[str, Any]]:
        history = json.loads(await self._run("frame_history", room, frame_id))
        return [{"version": v, "hash": h} for v, h, _ in history]

    async def locations(self, hashes: Sequence[str]) -> dict[str, str]:
        if not hashes:
            return {}
        found = await self._run("locations", json.dumps(list(hashes)), read_only=True)
        return {h: loc for h, loc in zip(hashes, found, strict=True) if loc is not None}

    # -- backup ---------------------------------------------------------------------------
    async def export_state(self) -> dict[str, Any]:
        default, hashes, rooms = await self._run("export_state")
        return {"default": default, "hashes": _pairs(hashes),
                "rooms": [_exported_room(self.prefix, *room) for room in rooms]}

    async def import_state(self, state: dict[str, Any]) -> None:
        rooms = []
        for r in state["rooms"]:
            past = {i: h[:-1] if i in r["frames"] else h for i, h in r["history"].items()}
            lists = [[f"history:{i}", [_json(v) for v in h]] for i, h in past.items() if h]
            lists += [[f"records:{session}:{name}", [_json(v) for v in stack]]
                      for session, stacks in r["records"].items()
                      for name, stack in stacks.items() if stack]
            rooms.append({
                "name": r["name"], "order": r["order"], "lists": lists,
                "meta": [str(r["seq"]), str(r["order_version"]), str(r["step"]),
                         repr(float(r["created"]))],
                "frames": [x for i, ref in r["frames"].items() for x in (i, _json(ref))],
                "events": [_json(e) for e in r["events"]],
                "owner": r.get("owner"), "grants": _json(r.get("grants") or {}),
                "description": r.get("description") or "",
                "expires": None if r.get("expires") is None else repr(float(r["expires"])),
                "shared": [[kind, [x for key, value in entries.items() for x in (key, _json(value))]]
                           for kind, entries in (r.get("shared") or {}).items() if entries],
            })
        hashes = [x for pair in state["hashes"].items() for x in pair]
        await self._run("import_state", _json(
            {"default": state["default"], "hashes": hashes, "rooms": rooms}))

    # -- shared annotations ---------------------------------------------------------------
    async def set_shared(self, room: str, kind: str, key: str, value: Any
                         ) -> dict[str, Any] | None:
        event = await self._run("set_shared", room, kind, key,
                                "" if value is None else _json(value), SHARED_KINDS[kind])
        return None if event is None else json.loads(event)

    async def shared(self, room: str, kind: str) -> dict[str, Any]:
        entries = await self._redis().hgetall(f"{self.prefix}room:{room}:shared:{kind}")
        return {key: json.loads(value) for key, value in entries.items()}

    # -- undo / redo ----------------------------------------------------------------------
    async def live_segments(self) -> set[str]:
        client = self._redis()
        live: set[str] = set()
        for room in await client.zrange(self.prefix + "rooms", 0, -1):
            key = f"{self.prefix}room:{room}"
            values = []
            async with client.pipeline(transaction=False) as pipe:
                for kept in await client.smembers(key + ":keys"):  # histories, records
                    pipe.lrange(kept, 0, -1)
                for lists in await pipe.execute():
                    values.extend(lists)
            segments, locations = await self._run("frame_segments", room, read_only=True)
            live |= set(json.loads(segments))
            live |= segments_in([json.loads(locations), *(json.loads(value) for value in values)])
        return live

    async def forget_segments(self, segments: set[str]) -> None:
        names, bucket = json.dumps(sorted(segments)), 0
        while bucket >= 0:  # a few buckets a call, so Redis serves others in between
            bucket = await self._run("forget_segments", names, bucket, FORGET_BUCKETS)

    async def pop_record(self, room: str, session: str, stack: Literal["undo", "redo"]
                         ) -> dict[str, Any] | None:
        record = await self._run("pop_record", room, session, stack)
        return None if record is None else json.loads(record)

    async def push_record(self, room: str, session: str, stack: Literal["undo", "redo"],
                          record: dict[str, Any]) -> None:
        await self._run("push_record", room, session, stack, json.dumps(record))

    # -- leases and the current frame -----------------------------------------------------
    async def acquire(self, room: str, target: str, session: str, ttl: float,
                      user: str | None = None) -> Lease:
        expires = await self._run("acquire", room, target, session, round(ttl * 1000),
                                  json.dumps(user))
        return Lease(room, target, session, expires / 1000, user)

    async def renew(self, room: str, target: str, session: str, ttl: float) -> Lease:
        expires, user = await self._run("renew", room, target, session, round(ttl * 1000))
        return Lease(room, target, session, expires / 1000, user)

    async def release(self, room: str, target: str, session: str) -> bool:
        return bool(await self._run("release", room, target, session))

    async def release_all(self, session: str) -> list[Lease]:
        return [_lease(value) for value in await self._run("release_all", session)]

    async def leases(self, room: str) -> list[Lease]:
        return [_lease(value) for value in await self._run("leases", room)]

    async def set_step(self, room: str, step: int, session: str) -> int:
        await self._run("set_step", room, step, session)
        return step

    async def expire_leases(self) -> list[Lease]:
        return [_lease(value) for value in await self._run("expire_leases")]

    async def presence(self, room: str, session: str, user: str | None,
                       ttl: float = PRESENCE_TTL) -> list[dict[str, Any]]:
        flat = await self._run("presence", room, session, json.dumps(user), int(ttl * 1000))
        return [{"session": s, "user": u} for s, u in zip(flat[::2], flat[1::2], strict=True)]

    # -- server processes -----------------------------------------------------------------
    async def heartbeat(self, process: str, ttl: float = HEARTBEAT_TTL) -> None:
        await self._run("heartbeat", process, round(ttl * 1000))

    async def attach(self, process: str, session: str) -> None:
        await self._run("attach", process, session)

    async def detach(self, process: str, session: str) -> None:
        await self._run("detach", process, session)

    async def expire_processes(self, sweeper: str) -> list[str]:
        return await self._run("expire_processes", sweeper)

    # -- events ---------------------------------------------------------------------------
    async def events_since(self, room: str, seq: int) -> list[dict[str, Any]] | None:
        events = await self._run("events_since", room, seq)
        return None if events is None else json.loads(events)

    async def publish(self, room: str, event: dict[str, Any]) -> None:
        await self._run("publish", room, json.dumps({**event, "room": room}))

    async def subscribe(self, room: str) -> QueueSubscription:
        channel = f"{self.prefix}room:{room}:events"
        subscription = QueueSubscription(lambda s: self._unsubscribe(channel, s))
        self._subscribers.setdefault(channel, set()).add(subscription)
        confirmed = self._subscribed.get(channel)
        if confirmed is None:  # the first here: SUBSCRIBE on the shared connection
            confirmed = self._subscribed[channel] = asyncio.get_running_loop().create_future()
            try:
                if self._pubsub is None:
                    self._pubsub = self._redis().pubsub()
                await self._pubsub.subscribe(channel)
                if self._reader is None:
                    self._pubsub.connection.register_connect_callback(self._resync)
                    self._reader = asyncio.create_task(self._read())
            except BaseException as error:  # whoever waits hears it; a later call retries
                del self._subscribed[channel]
                confirmed.set_exception(error)
        try:
            await asyncio.shield(confirmed)  # the reader sees the confirmation
        except BaseException:
            await subscription.aclose()
            raise
        return subscription

    async def _unsubscribe(self, channel: str, subscription: QueueSubscription) -> None:
        subscribers = self._subscribers.get(channel, set())
        subscribers.discard(subscription)
        if subscribers:
            return
        self._subscribers.pop(channel, None)
        if self._subscribed.pop(channel, None) is not None:
            await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        """Hand each message of the shared pubsub connection to its channel's subscriptions."""
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (ConnectionError, TimeoutError):
                await asyncio.sleep(1)  # Redis is away; reconnecting calls _resync
                continue
            if message is None:
                continue
            channel = message["channel"]
            if message["type"] == "subscribe":
                confirmed = self._subscribed.get(channel)
                if confirmed is not None and not confirmed.done():
                    confirmed.set_result(None)
            elif message["type"] == "message":
                try:
                    event = json.loads(message["data"])
                except ValueError:
                    log.warning("ignoring a message on %s that is not JSON", channel)
                    continue
                for subscription in self._subscribers.get(channel, ()):
                    subscription.queue.put_nowait(event)

    def _resync(self, connection: Any) -> None:
        """The pubsub connection was re-made: events may be lost, so subscribers resync."""
        for channel, subscribers in self._subscribers.items():
            room = channel[len(self.prefix) + len("room:"): -len(":events")]
            for subscription in subscribers:
                subscription.queue.put_nowait(
                    {"type": "resync", "room": room, "reason": "the Redis connection was lost"})
