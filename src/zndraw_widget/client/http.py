"""A synchronous HTTP client for the data channel (keep-alive, errors as exceptions,
retries).

Synchronous on purpose: it works the same in a plain script and inside a kernel whose
asyncio loop is already running.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx

from .. import codec
from ..errors import AlreadyExists, BadRequest, Forbidden, NotFound, PayloadTooLarge, ZnDrawError
from .backoff import Backoff
from .discovery import HOW_TO, Endpoint
from .errors import AuthenticationError, ConflictError, LockedError, ServerNotFoundError

TIMEOUT = httpx.Timeout(120.0, connect=10.0)
RETRY_FOR = 30.0  # seconds a request is tried again while its server is away
RETRY_STATUS = frozenset({502, 503, 504})  # a proxy without a server, or one unavailable


def new_idempotency_key() -> str:
    """A random ``Idempotency-Key`` for one write (docs/protocol.md)."""
    return secrets.token_hex(12)


class HttpClient:
    """Calls ``{api_url}<path>`` as one session (``X-ZnDraw-Session``).

    Reads, writes with an idempotency key and requests marked ``retry`` are tried again
    after a connection error or a 502, 503 or 504, pausing as :class:`~.backoff.Backoff`
    says, for up to ``retry_for`` seconds: once this client has reached its server, so
    that a server that was never there fails at once.
    """

    def __init__(self, endpoint: Endpoint, session: str, retry_for: float = RETRY_FOR) -> None:
        self.endpoint = endpoint
        self.retry_for = retry_for
        self._reached = False
        headers = {"X-ZnDraw-Session": session, "Accept": "application/json, application/msgpack",
                   **endpoint.auth_headers()}
        self._client = httpx.Client(base_url=endpoint.api_url, headers=headers, timeout=TIMEOUT)

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None, body: bytes | None = None, key: str | None = None,
                retry: bool | None = None, headers: dict[str, str] | None = None
                ) -> httpx.Response:
        """Send one request; raise the matching exception for any error status.

        ``key`` is the write's ``Idempotency-Key``; ``retry`` (by default: for GET and
        keyed requests) tries it again while the server is away (see the class)."""
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            headers["Content-Type"] = "application/msgpack"
            headers["X-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        if key is not None:
            headers["Idempotency-Key"] = key
        if retry is None:
            retry = method == "GET" or key is not None
        backoff, deadline = Backoff(), time.monotonic() + self.retry_for
        while True:
            try:
                response = self._client.request(method, path, params=params, content=body,
                                                headers=headers)
            except httpx.TransportError as error:
                if retry and self._reached and time.monotonic() < deadline:
                    time.sleep(backoff.next())
                    continue
                raise self._unreachable(error) from None
            self._reached = True
            if response.status_code in RETRY_STATUS and retry and time.monotonic() < deadline:
                time.sleep(backoff.next())
                continue
            if response.status_code >= 400:
                raise self._error(response)
            return response

    @contextlib.contextmanager
    def stream(self, path: str, params: dict[str, Any] | None = None
               ) -> Iterator[httpx.Response]:
        """``GET path`` with its body left to read (``iter_bytes``); an error status raises
        as :meth:`request` does. Not retried: a body read halfway cannot be resumed."""
        try:
            with self._client.stream("GET", path, params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._error(response)
                yield response
        except httpx.ConnectError as error:
            raise self._unreachable(error) from None

    def _unreachable(self, error: Exception) -> ServerNotFoundError:
        return ServerNotFoundError(
            f"cannot reach the zndraw server at {self.endpoint.api_url} (from "
            f"{self.endpoint.source}): {error}. Is it running? Otherwise {HOW_TO}")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def msgpack(self, method: str, path: str, **kwargs: Any) -> Any:
        return codec.decode(self.request(method, path, **kwargs).content, bounded=False)

    def _error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        code = payload.pop("error", "")
        message = payload.pop("message", "") or response.reason_phrase
        if status == 403 and code == "forbidden":  # allowed in, but not to do this
            return Forbidden(message, **payload)
        if status in (401, 403):
            return AuthenticationError(
                f"the zndraw server at {self.endpoint.api_url} refused the credentials "
                f"(from {self.endpoint.source}): {message}. Check the token (ZNDRAW_TOKEN or "
                "Room(..., token=...))", **payload)
        if status == 409 and code == "conflict":
            return ConflictError(f"{message}; re-read the room and try again", **payload)
        if status == 423:
            return LockedError(message, **payload)
        if status == 404 and code == "index_out_of_range":
            return IndexError(message)
        if status == 404 and not code:
            return ServerNotFoundError(
                f"{self.endpoint.api_url} does not serve the zndraw API ({status}): is the "
                "zndraw_widget extension enabled on that server?")
        kinds = {400: BadRequest, 404: NotFound, 409: AlreadyExists, 413: PayloadTooLarge}
        error = kinds.get(status, ZnDrawError)(message, **payload)
        if error.__class__ is ZnDrawError:
            error.status, error.code = status, code or "error"
        return error
