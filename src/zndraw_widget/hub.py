"""Fan-out of room events to this process's control connections.

One store subscription per room and process, however many connections joined it: with
Redis, a change made through any process reaches every listener here through that one
subscription. The hub also knows this process's control connections (to shut them down
first when the server stops) and sweeps expired leases so that rooms hear of them (the
runtime calls :meth:`Hub.sweep` periodically). It attaches its sessions to its ``process``
in the store, so that when this process dies (its heartbeat lapses) another process's
sweep drops their leases and presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from itertools import count
from typing import Any, Protocol

import msgpack

from .errors import NotFound
from .metrics import Metrics
from .state.base import PRESENCE_TTL, Store, Subscription

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any], bytes], None]  # the event, and it packed (msgpack)
SWEEP_INTERVAL = 0.5  # seconds between sweeps for expired leases and presences


class Connection(Protocol):
    """A control connection as the hub sees it."""

    async def shut_down(self) -> None:
        """Release what the connection holds, then close it."""


class Hub:
    """Delivers each room's events to the listeners of this process."""

    def __init__(self, store: Store, process: str, metrics: Metrics | None = None) -> None:
        self.store = store
        self.process = process
        self.metrics = metrics or Metrics()
        self._listeners: dict[str, set[Listener]] = {}
        self._feeds: dict[str, asyncio.Task] = {}
        self._ready: dict[str, asyncio.Future] = {}
        self._present: dict[tuple[str, str], str] = {}  # (room, session) -> user, renewed
        self._renewed: float | None = None  # loop time presences were last renewed
        self._connections: set[Connection] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def connection_count(self) -> int:
        """How many control connections are open."""
        return len(self._connections)

    def connected(self, connection: Connection) -> None:
        """A control connection opened (see :meth:`idle`)."""
        self._connections.add(connection)
        self._idle.clear()

    def disconnected(self, connection: Connection) -> None:
        """A control connection closed and released what it held."""
        self._connections.discard(connection)
        if not self._connections:
            self._idle.set()

    async def idle(self) -> None:
        """Wait until every control connection has closed and cleaned up."""
        await self._idle.wait()

    async def close_connections(self) -> None:
        """Shut every control connection down and wait until each has released its
        leases and presence."""
        await asyncio.gather(*(connection.shut_down() for connection in list(self._connections)))
        await self.idle()

    async def present(self, room: str, session: str, user: str | None) -> list[dict[str, Any]]:
        """Mark ``session`` present in ``room`` (absent when ``user`` is None), renewed by
        this process while it lasts; who is present now."""
        if user is None:
            self._present.pop((room, session), None)
        else:
            self._present[(room, session)] = user
            await self.store.attach(self.process, session)
        return await self.store.presence(room, session, user)

    async def detach(self, session: str) -> None:
        """``session``'s control connection here closed (after releasing what it held)."""
        await self.store.detach(self.process, session)

    async def renew_presence(self) -> None:
        """Renew the presence of this process's sessions (the sweeper does, every
        ``PRESENCE_TTL / 3``)."""
        for (room, session), user in list(self._present.items()):
            with contextlib.suppress(NotFound):  # the room is gone
                await self.store.attach(self.process, session)
                await self.store.presence(room, session, user)

    async def join(self, room: str, listener: Listener) -> None:
        """Deliver ``room``'s events to ``listener`` from the moment this returns."""
        self._listeners.setdefault(room, set()).add(listener)
        if room not in self._feeds:
            ready = asyncio.get_running_loop().create_future()
            self._ready[room] = ready
            self._feeds[room] = asyncio.create_task(self._feed(room, ready))
        await asyncio.shield(self._ready[room])

    def leave(self, room: str, listener: Listener) -> None:
        listeners = self._listeners.get(room)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[room]
            self._ready.pop(room, None)
            self._feeds.pop(room).cancel()

    async def _feed(self, room: str, ready: asyncio.Future) -> None:
        subscription: Subscription | None = None
        try:
            subscription = await self.store.subscribe(room)
            ready.set_result(None)
            async for event in subscription:
                packed = msgpack.packb(event)  # once, for every connection
                for listener in list(self._listeners.get(room, ())):
                    listener(event, packed)
                if "time" in event:  # not in a resync (the store lost its feed of the room)
                    self.metrics.fanout.observe(max(0.0, time.time() - event["time"]))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the store went away: listeners hear it and resync
            log.warning("event feed of room %s failed: %s", room, error)
            if not ready.done():
                ready.set_exception(error)
            resync = {"type": "resync", "room": room, "reason": str(error)}
            for listener in list(self._listeners.get(room, ())):
                listener(resync, msgpack.packb(resync))
        finally:
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.aclose()

    async def sweep(self) -> None:
        """One sweep (every ``SWEEP_INTERVAL``): expire leases and presences and the
        processes that stopped renewing their heartbeat, and renew this process's presences
        every ``PRESENCE_TTL / 3``."""
        now = asyncio.get_running_loop().time()
        if self._renewed is None:
            self._renewed = now
        elif now - self._renewed > PRESENCE_TTL / 3:
            self._renewed = now
            await self.renew_presence()
        await self.store.expire_leases()
        for process in await self.store.expire_processes(self.process):
            log.warning("server process %s stopped without a goodbye (its heartbeat lapsed): "
                        "its sessions' leases and presence were dropped", process)

    async def close(self) -> None:
        """Stop the room feeds (shut the connections down first)."""
        tasks = list(self._feeds.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._feeds.clear()
        self._listeners.clear()


class Outbox:
    """A connection's bounded queue of outgoing messages, packed (msgpack) as they come.

    Messages wait here while the connection's socket does not take more. Those that only
    state the latest value of something (the room's current frame, who holds a lease, who
    is present) replace an undelivered one with the same key, so a slow reader never makes
    them pile up; everything else keeps its order. ``put`` returns False once ``limit``
    messages or ``limit_bytes`` bytes would be waiting: the connection is then too slow to
    keep.
    """

    def __init__(self, limit: int = 2000, limit_bytes: int = 16 << 20) -> None:
        self.limit = limit
        self.limit_bytes = limit_bytes
        self.nbytes = 0
        self._pending: OrderedDict[Any, bytes] = OrderedDict()
        self._counter = count()

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, message: dict[str, Any], packed: bytes | None = None) -> bool:
        """Queue ``message`` (``packed``: it packed already, e.g. once for a room's
        connections); False if the connection is too slow to keep."""
        packed = msgpack.packb(message) if packed is None else packed
        key = coalescing_key(message)
        replaced = self._pending.get(key) if key is not None else None
        size = len(packed) - (len(replaced) if replaced is not None else 0)
        if self.nbytes + size > self.limit_bytes or (
                replaced is None and len(self._pending) >= self.limit):
            return False
        self._pending[key if key is not None else next(self._counter)] = packed
        self.nbytes += size
        return True

    def pop(self) -> bytes:
        """The next message, packed (the outbox must not be empty)."""
        packed = self._pending.popitem(last=False)[1]
        self.nbytes -= len(packed)
        return packed


def coalescing_key(message: dict[str, Any]) -> tuple | None:
    kind = message.get("type")
    if kind == "step":
        return ("step", message.get("room"))
    if kind == "lease":
        return ("lease", message.get("room"), message.get("target"))
    if kind == "presence":
        return ("presence", message.get("room"), message.get("session"))
    if kind in ("selection", "bookmark"):  # the latest entry of a user or a name
        return (kind, message.get("room"), message.get("key"))
    if kind == "job":  # each carries the whole job
        return ("job", message.get("job", {}).get("id"))
    return None
