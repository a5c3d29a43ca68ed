"""The kernel's half of the widget's second transport (``js/transport.ts``).

Where a view cannot reach the zndraw API itself (VS Code, Colab, a Jupyter server without
the extension, a room kept in this kernel), it sends the same requests over the widget's
comm: each HTTP request as one custom message (its body as a binary buffer), and the
control channel's messages. The kernel passes them, with its own credentials, to the server
its ``Room`` objects use, and sends the answers back: the same handlers answer both
transports, so there is no second implementation of any read or write.

The work runs in one daemon thread with its own event loop per viewer, so a slow read never
holds up the kernel's shell (answers are sent from that thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import httpx

from .client.discovery import Endpoint
from .client.link import ws_url

log = logging.getLogger(__name__)

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
#: Request headers a view may set (authentication is the kernel's own).
PASSED_HEADERS = frozenset({"content-type", "x-zndraw-session", "idempotency-key",
                            "x-zndraw-undo-group", "if-none-match", "x-content-sha256"})
RETURNED_HEADERS = ("content-type", "etag")
#: A path below the API root: no scheme, no way up.
PATH = re.compile(r"^(?!/)(?!.*\.\.)(?!.*%2e)(?!.*://)[A-Za-z0-9_\-./%?=&,:~+*!()']*$", re.I)
MAX_SOCKETS = 16  # control sockets one widget's views may hold open at once
TIMEOUT = httpx.Timeout(120.0, connect=10.0)

Send = Callable[[dict[str, Any], list[bytes]], None]


class CommTransport:
    """Answers one widget's comm messages of type ``zndraw.*`` against ``endpoint()``."""

    def __init__(self, endpoint: Callable[[], Endpoint], send: Send) -> None:
        self._find_endpoint = endpoint
        self._found: Endpoint | None = None
        self._send = send
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._sockets: dict[tuple[str, int], Any] = {}  # (channel, id) -> tornado connection
        self._lock = threading.Lock()

    def _endpoint(self) -> Endpoint:
        """The room's server, looked up once (a lookup reads runtime files and may ask it)."""
        if self._found is None:
            self._found = self._find_endpoint()
        return self._found

    # -- from the kernel's shell thread ----------------------------------------------------
    def handle(self, content: Any, buffers: list[bytes]) -> bool:
        """Take one custom message; False if it is not this transport's."""
        if not isinstance(content, dict) or not str(content.get("type", "")).startswith(
                "zndraw."):
            return False
        kind = content["type"]
        handler = {"zndraw.http": self._http, "zndraw.ws.open": self._open,
                   "zndraw.ws.send": self._write, "zndraw.ws.close": self._close}.get(kind)
        if handler is None or not isinstance(content.get("channel"), str):
            return True
        body = bytes(buffers[0]) if buffers else b""
        asyncio.run_coroutine_threadsafe(self._guarded(handler, content, body), self._running())
        return True

    def close(self) -> None:
        """Close the control sockets and end the thread."""
        loop, self._loop = self._loop, None
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.create_task, self._shutdown(loop))

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="zndraw-comm",
                                 daemon=True).start()
            return self._loop

    # -- in the transport's thread ---------------------------------------------------------
    async def _guarded(self, handler: Callable[..., Any], content: dict[str, Any],
                       body: bytes) -> None:
        try:
            await handler(content, body)
        except Exception as error:  # answered, so the view never waits for nothing
            log.warning("the comm transport failed on %s: %s", content.get("type"), error)
            if content["type"] == "zndraw.http":
                self._reply(content, {"status": 0, "error": str(error)})
            elif content["type"] == "zndraw.ws.open":
                self._reply(content, {"type": "zndraw.ws.closed", "code": 1011,
                                      "reason": str(error)[:120]})

    def _reply(self, request: dict[str, Any], content: dict[str, Any],
               buffers: list[bytes] | None = None, id_: int | None = None) -> None:
        self._send({"type": request["type"], **content, "channel": request["channel"],
                    "id": request["id"] if id_ is None else id_}, buffers or [])

    async def _http(self, request: dict[str, Any], body: bytes) -> None:
        method, path = str(request.get("method", "")).upper(), str(request.get("path", ""))
        if method not in METHODS or not PATH.match(path):
            self._reply(request, {"status": 400, "headers": {"content-type": "application/json"}},
                        [b'{"error": "bad_request", "message": "the comm transport passes '
                         b'requests below the zndraw API only"}'])
            return
        headers = {k: str(v) for k, v in dict(request.get("headers") or {}).items()
                   if k.lower() in PASSED_HEADERS}
        if self._client is None:
            endpoint = self._endpoint()
            self._client = httpx.AsyncClient(base_url=endpoint.api_url,
                                             headers=endpoint.auth_headers(), timeout=TIMEOUT)
        response = await self._client.request(method, path, content=body or None,
                                              headers=headers)
        kept = {name: response.headers[name] for name in RETURNED_HEADERS
                if name in response.headers}
        self._reply(request, {"status": response.status_code, "headers": kept},
                    [response.content])

    async def _open(self, request: dict[str, Any], _body: bytes) -> None:
        from tornado import httpclient, websocket

        key = (request["channel"], int(request["id"]))
        if len(self._sockets) >= MAX_SOCKETS:
            raise RuntimeError(f"more than {MAX_SOCKETS} control sockets open")
        endpoint = self._endpoint()
        session = str(request.get("session") or "")
        connection = await websocket.websocket_connect(
            httpclient.HTTPRequest(ws_url(endpoint.api_url, session), headers=endpoint.auth_headers(),
                                   connect_timeout=10, request_timeout=10),
            ping_interval=10, ping_timeout=10)
        self._sockets[key] = connection
        self._reply(request, {"type": "zndraw.ws.opened"})
        try:
            while (message := await connection.read_message()) is not None:
                if isinstance(message, bytes):
                    self._reply(request, {"type": "zndraw.ws.message"}, [message])
        finally:
            if self._sockets.pop(key, None) is not None:
                self._reply(request, {"type": "zndraw.ws.closed",
                                      "code": connection.close_code or 1006,
                                      "reason": connection.close_reason or ""})

    async def _write(self, request: dict[str, Any], body: bytes) -> None:
        connection = self._sockets.get((request["channel"], _int(request.get("socket"))))
        if connection is not None:
            await connection.write_message(body, binary=True)

    async def _close(self, request: dict[str, Any], _body: bytes) -> None:
        connection = self._sockets.pop((request["channel"], _int(request.get("socket"))), None)
        if connection is not None:
            connection.close(1000, "bye")

    async def _shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        for connection in list(self._sockets.values()):
            connection.close(1001, "the viewer closed")
        self._sockets.clear()
        if self._client is not None:
            await self._client.aclose()
        loop.stop()


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -1
