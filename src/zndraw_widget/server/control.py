"""The control channel: one websocket per client for rooms, leases, the presenter token and
live change events (msgpack messages; see ``docs/protocol.md``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tornado import websocket

from .. import codec
from ..caller import Caller, User
from ..errors import BadRequest, RateLimited, ZnDrawError
from ..hub import Hub, Outbox
from ..room_service import RoomService
from ..state.base import PRESENTER, check_room_name
from . import protocol
from .protocol import caller_of, frame_number, lease_target, lease_ttl

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
PRESENTER_TTL = 5.0
RATE = 500.0  # messages per second a client may send on average
BURST = 1000.0  # ... and at once
MAX_REFUSED = 1000  # refused (over-rate) messages before the connection is closed


class ControlHandler(websocket.WebSocketHandler):
    """The control channel's logic; an authentication base supplies ``identity``."""

    identity: User
    caller: Caller

    @property
    def service(self) -> RoomService:
        return self.settings["zndraw_service"]()

    @property
    def hub(self) -> Hub:
        return self.settings["zndraw_hub"]()

    @property
    def max_message_size(self) -> int:
        return 1 << 20  # past this tornado closes; up to it we answer with an error

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Before the upgrade: the session the client names (else a new one) must be a
        valid id of this user's; otherwise answer the HTTP error."""
        given = self.get_query_argument("session", None)
        try:
            self.caller = caller_of(self.identity, given or secrets.token_hex(8))
            if given is not None:
                await self.service.sessions.claim(self.caller)
        except ZnDrawError as error:
            self.set_status(error.status)
            self.finish(error.to_json())
            return
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        # Small messages go out at once: with Nagle's algorithm a message written while the
        # previous one is unacknowledged waits for the peer's delayed ACK (40 ms on Linux),
        # e.g. a join's reply behind its presence event, or a step behind the last step.
        self.set_nodelay(True)
        self.session = self.caller.session
        self.rooms: set[str] = set()
        self.outbox = Outbox()
        self._draining: asyncio.Future | None = None  # a write the socket has not taken yet
        self._tokens, self._stamp, self._refused = BURST, time.monotonic(), 0
        self.hub.connected(self)
        self._send({"type": protocol.HELLO, "session": self.session, "user": self.caller.user})

    # -- sending --------------------------------------------------------------------------
    def _send(self, message: dict[str, Any], packed: bytes | None = None) -> None:
        if not self.outbox.put(message, packed):
            log.warning("closing control connection of %s: it does not keep up", self.session)
            self.close(1008, "too slow: reconnect and resynchronise by seq")
        elif self._draining is None:
            self._flush()

    def deliver(self, event: dict[str, Any], packed: bytes) -> None:
        """A room event from the hub, and it packed."""
        self._send(event, packed)

    def _flush(self, drained: asyncio.Future | None = None) -> None:
        """Hand the outbox's messages to the socket while it takes them at once (no task
        switch per message: a room's event reaches its connections in one pass); once
        the socket has a backlog, the rest waits in the outbox until it drained."""
        self._draining = None
        if drained is not None and (drained.cancelled() or drained.exception() is not None):
            return  # the connection closed
        with contextlib.suppress(websocket.WebSocketClosedError):
            while len(self.outbox):
                written = self.write_message(self.outbox.pop(), binary=True)
                stream = self.ws_connection.stream
                if stream.writing() or stream.closed():  # a backlog, or the socket failed
                    self._draining = written
                    written.add_done_callback(self._flush)
                    return

    # -- receiving ------------------------------------------------------------------------
    async def on_message(self, message: str | bytes) -> None:
        request_id = None
        try:
            if not isinstance(message, bytes):
                raise BadRequest("control messages are binary msgpack maps")
            if len(message) > MAX_MESSAGE_BYTES:
                raise BadRequest(f"message of {len(message)} bytes exceeds {MAX_MESSAGE_BYTES}")
            request = codec.decode(message)
            if not isinstance(request, dict) or not isinstance(request.get("type"), str):
                raise BadRequest("a message is a map with a string 'type'")
            request_id = request.get("id")
            if not self._allow():
                raise RateLimited("too many messages: slow down", retry_after=1 / RATE)
            action = self._actions().get(request["type"])
            if action is None:
                raise BadRequest(f"unknown message type {request['type']!r}",
                                 known=sorted(self._actions()))
            result = await action(request)
            if request_id is not None:
                self._send({"type": protocol.REPLY, "id": request_id, "ok": True,
                            **(result or {})})
        except (ZnDrawError, IndexError) as error:
            self.settings["zndraw_metrics"].refused(error)
            details = error.to_json() if isinstance(error, ZnDrawError) else {
                "error": "index_out_of_range", "message": str(error)}
            self._send({"type": protocol.REPLY, "id": request_id, "ok": False, **details})

    def _allow(self) -> bool:
        now = time.monotonic()
        self._tokens = min(BURST, self._tokens + (now - self._stamp) * RATE)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self._refused += 1
        if self._refused > MAX_REFUSED:
            self.close(1008, "flooding: too many messages")
        return False

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[Any]]]:
        return {
            protocol.JOIN_ROOM: self._join_room,
            protocol.LEAVE_ROOM: self._leave_room,
            protocol.LOCK_REQUEST: self._lock_request,
            protocol.LOCK_RENEW: self._lock_renew,
            protocol.LOCK_RELEASE: self._lock_release,
            protocol.REQUEST_PRESENTER_TOKEN: self._request_presenter,
            protocol.RENEW_PRESENTER_TOKEN: self._renew_presenter,
            protocol.RELEASE_PRESENTER_TOKEN: self._release_presenter,
            protocol.SET_ROOM_FRAME: self._set_room_frame,
            protocol.PING: self._ping,
        }

    # -- actions --------------------------------------------------------------------------
    async def _join_room(self, request: dict[str, Any]) -> dict[str, Any]:
        room = _room(request)
        info = await self.service.room_info(self.caller, room)
        if room not in self.rooms:
            self.rooms.add(room)
            await self.hub.join(room, self.deliver)
        # Independent of each other: at once, so their store round trips overlap (Redis).
        present, info, leases, selections, bookmarks = await asyncio.gather(
            self.hub.present(room, self.session, self.caller.user),
            self.service.room_info(self.caller, room), self.service.leases(self.caller, room),
            self.service.selections(self.caller, room),
            self.service.bookmarks(self.caller, room))
        return {"room": info.to_json(), "leases": [lease.to_json() for lease in leases],
                "presence": present, "selections": selections, "bookmarks": bookmarks}

    async def _leave_room(self, request: dict[str, Any]) -> None:
        room = _room(request)
        if room in self.rooms:
            await self._leave(room)

    async def _leave(self, room: str) -> None:
        self.rooms.discard(room)
        self.hub.leave(room, self.deliver)
        with contextlib.suppress(ZnDrawError):
            await self.hub.present(room, self.session, None)

    async def _lock_request(self, request: dict[str, Any]) -> dict[str, Any]:
        lease = await self.service.acquire(self.caller, _room(request), _target(request),
                                           _ttl(request))
        return {"lease": lease.to_json()}

    async def _lock_renew(self, request: dict[str, Any]) -> dict[str, Any]:
        lease = await self.service.renew(self.caller, _room(request), _target(request),
                                         _ttl(request))
        return {"lease": lease.to_json()}

    async def _lock_release(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"released": await self.service.release(self.caller, _room(request),
                                                       _target(request))}

    async def _request_presenter(self, request: dict[str, Any]) -> dict[str, Any]:
        lease = await self.service.acquire(self.caller, _room(request), PRESENTER,
                                           _ttl(request) or PRESENTER_TTL)
        return {"lease": lease.to_json()}

    async def _renew_presenter(self, request: dict[str, Any]) -> dict[str, Any]:
        lease = await self.service.renew(self.caller, _room(request), PRESENTER,
                                         _ttl(request) or PRESENTER_TTL)
        return {"lease": lease.to_json()}

    async def _release_presenter(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"released": await self.service.release(self.caller, _room(request), PRESENTER)}

    async def _set_room_frame(self, request: dict[str, Any]) -> dict[str, Any]:
        frame = frame_number(request.get("frame"))
        return {"frame": await self.service.set_step(self.caller, _room(request), frame)}

    async def _ping(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"time": time.time()}

    # -- closing --------------------------------------------------------------------------
    _cleanup_task: asyncio.Task | None = None

    def on_close(self) -> None:
        if hasattr(self, "outbox"):
            self._release()

    async def shut_down(self) -> None:
        """The server stops: release this session's leases and presence, and close."""
        self.close(1001, "the server is stopping")
        await self._release()

    def _release(self) -> asyncio.Task:
        """Start the cleanup once (a closed connection and a shut-down one share it)."""
        if self._cleanup_task is None:
            self._cleanup_task = asyncio.create_task(self._cleanup())  # kept referenced
        return self._cleanup_task

    async def _cleanup(self) -> None:
        """A disconnect releases the session's leases and presence at once."""
        try:
            for room in list(self.rooms):
                await self._leave(room)
            await self.service.release_all(self.caller)
            await self.hub.detach(self.session)
        except Exception as error:  # the store is unreachable: leases expire by TTL
            log.warning("releasing the leases of %s failed: %s", self.session, error)
        finally:
            self.hub.disconnected(self)


def _room(request: dict[str, Any]) -> str:
    return check_room_name(request.get("room"))


def _target(request: dict[str, Any]) -> str:
    return lease_target(request.get("target"))


def _ttl(request: dict[str, Any]) -> float | None:
    return lease_ttl(request.get("ttl"))
