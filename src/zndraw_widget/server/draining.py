"""A Tornado application that can let its HTTP requests finish before the server stops."""

from __future__ import annotations

import asyncio
from typing import Any

from tornado import httputil, web


class Application(web.Application):
    """A Tornado application that knows which HTTP requests it is serving (from their
    headers until their answer is sent or their connection closed; not websockets, which
    the runtime closes), so that a stopping server can let them finish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serving: set[httputil.HTTPConnection] = set()
        self._changed: asyncio.Event | None = None

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection
                      ) -> httputil.HTTPMessageDelegate:
        return _Counted(self, request_conn, super().start_request(server_conn, request_conn))

    def log_request(self, handler: web.RequestHandler) -> None:
        self.request_ended(handler.request.connection)
        super().log_request(handler)

    def request_started(self, request_conn: httputil.HTTPConnection) -> None:
        self._serving.add(request_conn)

    def request_ended(self, request_conn: httputil.HTTPConnection | None) -> None:
        self._serving.discard(request_conn)
        if self._changed is not None:
            self._changed.set()

    async def finish_requests(self, timeout: float) -> bool:
        """Wait until no HTTP request is being served, at most ``timeout`` seconds;
        whether they all finished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._changed = asyncio.Event()
        while self._serving:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                return False
        return True


class _Counted(httputil.HTTPMessageDelegate):
    """Passes one request on to the application's delegate, telling it when the request
    starts (its headers arrived: an idle keep-alive connection is no request) and when its
    connection closes before an answer."""

    def __init__(self, app: Application, request_conn: httputil.HTTPConnection,
                 delegate: httputil.HTTPMessageDelegate) -> None:
        self._app = app
        self._request_conn = request_conn
        self._delegate = delegate

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Any:
        if headers.get("Upgrade", "").lower() != "websocket":
            self._app.request_started(self._request_conn)
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self._delegate.data_received(chunk)

    def finish(self) -> None:
        self._delegate.finish()

    def on_connection_close(self) -> None:
        self._app.request_ended(self._request_conn)
        self._delegate.on_connection_close()
