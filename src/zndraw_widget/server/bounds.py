"""What the standalone server bounds before any handler runs: the request line and headers
(414, 431), bodies of unauthenticated requests and unknown paths (a small server-wide body
limit that only an authenticated handler raises), and tokens in what it logs."""

from __future__ import annotations

import json
import re
from typing import Any

from tornado import httputil, web

from .draining import Application

MAX_URL_BYTES = 16 * 1024  # a longer request target: 414
MAX_HEADER_BYTES = 64 * 1024  # longer headers (request line included): 431
HEADER_READ_BYTES = 1 << 20  # what tornado reads of a request's head before dropping it
PRE_AUTH_BODY_BYTES = 64 * 1024  # the server-wide body limit; handlers raise it after auth

_TOKEN = re.compile(r"([?&]token=)[^&#]*", re.IGNORECASE)


def scrub_token(uri: str) -> str:
    """``uri`` with the value of any ``token`` query argument replaced (for logs)."""
    return _TOKEN.sub(r"\1[secret]", uri)


class BoundedApplication(Application):
    """A (draining) Tornado application that answers an over-long request target with 414
    and over-long headers with 431 (Tornado itself would drop the connection past its own,
    higher, ``max_header_size``); such a request is never counted as being served."""

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection
                      ) -> httputil.HTTPMessageDelegate:
        return _Bounded(super().start_request(server_conn, request_conn), request_conn)


class _Bounded(httputil.HTTPMessageDelegate):
    """Passes a request on to ``inner`` unless its head is too long; answers that itself."""

    def __init__(self, inner: httputil.HTTPMessageDelegate,
                 connection: httputil.HTTPConnection) -> None:
        self.inner = inner
        self.connection = connection
        self.refused = False

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Any:
        head = len(start_line.path) + sum(len(k) + len(v) + 4 for k, v in headers.get_all())
        if len(start_line.path) > MAX_URL_BYTES:
            self._refuse(414, "URI Too Long", f"the request target is longer than "
                         f"{MAX_URL_BYTES} bytes: send a long selection as a JSON body "
                         "(POST .../select)")
        elif head > MAX_HEADER_BYTES:
            self._refuse(431, "Request Header Fields Too Large",
                         f"the request's headers are longer than {MAX_HEADER_BYTES} bytes")
        else:
            return self.inner.headers_received(start_line, headers)
        return None

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self.refused = True
        error = reason.lower().replace(" ", "_")
        body = json.dumps({"error": error, "message": message}).encode()
        headers = httputil.HTTPHeaders({"Content-Type": "application/json",
                                         "Content-Length": str(len(body)),
                                         "Connection": "close"})
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", status, reason), headers, body)
        self.connection.finish()

    def data_received(self, chunk: bytes) -> Any:
        if not self.refused:
            return self.inner.data_received(chunk)
        return None

    def finish(self) -> None:
        if not self.refused:
            self.inner.finish()

    def on_connection_close(self) -> None:
        if not self.refused:
            self.inner.on_connection_close()


def request_summary(handler: web.RequestHandler) -> str:
    """What Tornado logs of a request (its ``_request_summary``), token scrubbed."""
    request = handler.request
    return f"{request.method} {scrub_token(request.uri)} ({request.remote_ip})"


@web.stream_request_body
class NotFound(web.RequestHandler):
    """Unknown paths: 404 at once, before any body is read (it streams, and is never
    read: the connection closes after the answer)."""

    def prepare(self) -> None:
        raise web.HTTPError(404)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Connection", "close")  # Tornado closes it: the body is unread
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": "not_found", "message": "no such path"}))

    def _request_summary(self) -> str:
        return request_summary(self)
