"""The control channel of one Room: a websocket in a daemon thread with its own event loop.

The thread never touches the caller's event loop, so a Room works the same in a plain script
and inside a running ipykernel. A lost connection is re-established with growing pauses;
what the room says is handed to a :class:`Handler`, always in the link thread. Tornado is
imported only in that thread, so ``import zndraw_widget`` stays light.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import threading
from typing import Any, Protocol
from urllib.parse import quote

import msgpack

from ..errors import BadRequest, NotFound, ZnDrawError
from .backoff import Backoff
from .discovery import Endpoint
from .errors import ConflictError, LockedError, ServerNotFoundError

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds to connect, and to wait for a reply
JOIN = "join"  # the id of the join_room request each connection starts with


class Handler(Protocol):
    """What the link tells about its room (called in the link thread, in order)."""

    def joined(self, reply: dict[str, Any]) -> None: ...

    def event(self, message: dict[str, Any]) -> None: ...

    def lost(self) -> None: ...


def ws_url(api_url: str, session: str) -> str:
    """The control channel's URL for an API root, naming ``session``."""
    scheme, rest = api_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}ws?session={quote(session)}"


def reply_error(reply: dict[str, Any]) -> ZnDrawError:
    """The exception for a refused request (``ok: false``)."""
    details = {k: v for k, v in reply.items() if k not in ("type", "id", "ok", "error",
                                                           "message")}
    kinds = {"locked": LockedError, "conflict": ConflictError, "bad_request": BadRequest,
             "not_found": NotFound}
    code = reply.get("error") or "error"
    error = kinds.get(code, ZnDrawError)(reply.get("message") or code, **details)
    if type(error) is ZnDrawError:
        error.code = code
    return error


class Link:
    """Joins ``room`` on the control channel as ``session`` and stays joined until closed."""

    def __init__(self, endpoint: Endpoint, session: str, room: str, handler: Handler) -> None:
        self._url = ws_url(endpoint.api_url, session)
        self._headers = endpoint.auth_headers()
        self._room = room
        self._handler = handler
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._connection: Any = None  # tornado's WebSocketClientConnection while open
        self._session_task: asyncio.Task[None] | None = None
        self._live = asyncio.Event()  # set while joined (bound to the link's loop on use)
        self._stop = asyncio.Event()
        self._closed = False
        self.joined = threading.Event()  # set while the room is joined
        #: Set once the first connection has joined or failed; ``error`` says why it failed.
        self.settled = threading.Event()
        self.error: Exception | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"zndraw-link-{room}",
                                        daemon=True)
        self._thread.start()

    # -- from any thread --------------------------------------------------------------------
    def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its reply; the matching exception if refused."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("control requests cannot be made from an on_change callback "
                               "(it runs in the link thread): hand them to another thread")
        if self._closed:
            raise RuntimeError("the Room is closed")
        future = asyncio.run_coroutine_threadsafe(self._request(kind, fields), self._loop)
        try:
            reply = future.result(TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ServerNotFoundError(f"no answer from the control channel {self._url} "
                                      f"within {TIMEOUT:g} s: is the server up?") from None
        if not reply.get("ok"):
            raise reply_error(reply)
        return reply

    def close(self) -> None:
        """Leave cleanly and end the thread (not awaited from the link thread itself)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(RuntimeError):  # the loop is already gone
            self._loop.call_soon_threadsafe(self._shutdown)
        if threading.current_thread() is not self._thread:
            self._thread.join(TIMEOUT)

    # -- in the link thread -----------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    def _shutdown(self) -> None:
        self._stop.set()
        if self._connection is not None:
            self._connection.close()  # the session ends once the server has answered
        elif self._session_task is not None:
            self._session_task.cancel()  # still connecting

    async def _main(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            self._session_task = asyncio.create_task(self._session())
            try:
                await self._session_task
            except asyncio.CancelledError:
                return
            except Exception as error:  # refused, unreachable, dropped: try again
                log.debug("control channel %s: %s", self._url, error)
                self.error = error
            self.settled.set()
            if self.joined.is_set():
                backoff.reset()
            self._left()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), backoff.next())

    async def _session(self) -> None:
        """One connection: join the room, then dispatch messages until it closes."""
        from tornado import httpclient, websocket

        request = httpclient.HTTPRequest(self._url, headers=self._headers,
                                         connect_timeout=TIMEOUT, request_timeout=TIMEOUT)
        connection = await websocket.websocket_connect(request, ping_interval=10,
                                                       ping_timeout=10)
        self._connection = connection
        try:
            await connection.write_message(msgpack.packb(
                {"type": "join_room", "id": JOIN, "room": self._room}), binary=True)
            while (raw := await connection.read_message()) is not None:
                if isinstance(raw, bytes):
                    self._dispatch(msgpack.unpackb(raw))
        finally:
            self._connection = None
            connection.close()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "reply" and message.get("id") == JOIN:
            if not message.get("ok"):
                raise reply_error(message)
            self._call("joined", message)
            self.error = None
            self.joined.set()
            self.settled.set()
            self._live.set()
        elif kind == "reply":
            future = self._pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)
        elif kind != "hello":
            self._call("event", message)

    def _call(self, name: str, *args: Any) -> None:
        try:
            getattr(self._handler, name)(*args)
        except Exception:  # keep the link alive: the handler's own problem
            log.exception("handling the control channel's %s failed", name)

    def _left(self) -> None:
        """The connection is gone: pending requests fail, the handler hears it."""
        self._live.clear()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ServerNotFoundError(
                    f"the control channel {self._url} closed before answering"))
        self._pending.clear()
        if self.joined.is_set():
            self.joined.clear()
            self._call("lost")

    async def _request(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        from tornado.websocket import WebSocketClosedError

        await self._live.wait()
        request_id = next(self._ids)
        future = self._pending[request_id] = asyncio.get_running_loop().create_future()
        try:
            if self._connection is None:
                raise WebSocketClosedError()
            await self._connection.write_message(msgpack.packb(
                {"type": kind, "id": request_id, **fields}), binary=True)
        except WebSocketClosedError:
            self._pending.pop(request_id, None)
            raise ServerNotFoundError(f"the control channel {self._url} closed") from None
        return await future
