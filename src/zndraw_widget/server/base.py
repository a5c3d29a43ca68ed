"""What every handler of the data channel shares: the service, the caller, arguments,
streamed bodies (read only once the request is authenticated, bounded, a refused one's small
body dropped), JSON answers and errors. The handlers themselves are in :mod:`.handlers`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from tornado import web

from .. import codec
from ..caller import Caller, User
from ..errors import BadRequest, PayloadTooLarge, ZnDrawError
from ..frames import FrameBatch
from ..room_service import RoomService, in_thread
from ..state.base import IDEMPOTENCY_KEY, Idempotency
from .protocol import (
    INDEX_PART,
    caller_of,
)

API_PREFIX = "zndraw/api"
BIG_BODY = 1 << 20  # bodies past this are joined, hashed and parsed off the event loop
YIELD_EVERY = 4 << 20  # bytes of body received between turns of the event loop
#: A refused request's body up to this size is read and dropped before the answer: a proxy
#: streaming it (nginx) would otherwise turn the early answer and close into a 502.
REFUSED_DRAIN = 4 << 20


class ApiError(web.HTTPError):
    """An HTTP error with a JSON body."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(status, payload.get("message", ""))
        self.payload = payload


def api(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Answer core errors with their HTTP status and a JSON body naming the problem."""

    @functools.wraps(method)
    async def wrapper(self: BaseHandler, *args: Any, **kwargs: Any) -> Any:
        try:
            if self._refusal is not None:  # refused in prepare, its small body now dropped
                raise self._refusal
            return await method(self, *args, **kwargs)
        except ZnDrawError as error:
            self.settings["zndraw_metrics"].refused(error)
            raise ApiError(error.status, error.to_json()) from None
        except IndexError as error:
            raise ApiError(404, {"error": "index_out_of_range", "message": str(error)}) from None

    return wrapper


class BaseHandler(web.RequestHandler):
    """What every zndraw handler shares: the service, arguments, bodies and errors.

    The authentication base it is combined with provides ``identity``, the user. The body
    streams in once the request is authenticated: one over ``max_upload_mb`` is read and dropped, then
    answered with 413, so that the client sees the answer rather than a connection reset;
    one over ``DRAIN_FACTOR`` times the limit is cut off at once.
    """

    identity: User
    DRAIN_FACTOR = 8

    def initialize(self, **kwargs: Any) -> None:
        super().initialize(**kwargs)
        self._chunks: list[bytes] = []
        self._received = 0
        self._reading = False
        self._body: bytes | None = None
        self._body_sha256: str | None = None
        self._refusal: web.HTTPError | None = None

    async def prepare(self) -> None:
        try:
            await maybe_await(super().prepare())  # authentication
        except web.HTTPError as refusal:
            self.refuse(refusal)
            return
        if self._finished:
            return
        hard_limit = self.DRAIN_FACTOR * self.max_upload_bytes
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > hard_limit:
            self._too_large()
        self.request.connection.set_max_body_size(hard_limit)
        self._reading = True

    def refuse(self, refusal: web.HTTPError) -> None:
        """Answer ``refusal`` (from ``prepare``) once a small body is read and dropped; raise
        it at once for a big or unknown one (answered unread, the connection closed)."""
        length = self.request.headers.get("Content-Length", "")
        if not (length.isdigit() and 0 < int(length) <= REFUSED_DRAIN):
            self._reading = False
            raise refusal
        self._refusal = refusal  # answered (by the handler method) once the body is dropped
        self.request.connection.set_max_body_size(REFUSED_DRAIN)
        self._reading = True

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self._received += len(chunk)
        if self._refusal is not None:
            return None  # dropped
        if self._received <= self.max_upload_bytes:
            self.keep(chunk)
        else:
            self._chunks = []
        if self._received % YIELD_EVERY < len(chunk):  # a big body arriving fast would
            return asyncio.sleep(0)  # be read without letting other requests run
        return None

    def keep(self, chunk: bytes) -> None:
        """Keep a received piece of the body (in memory; a streaming handler writes it)."""
        self._chunks.append(chunk)

    def _too_large(self) -> None:
        error = PayloadTooLarge(
            f"the body exceeds the limit of {self.settings['zndraw_max_upload_mb']} MB; send "
            "fewer frames per request", limit_mb=self.settings["zndraw_max_upload_mb"])
        raise ApiError(413, error.to_json())

    async def body(self) -> bytes:
        """The whole body, checked against its size limit and ``X-Content-SHA256`` if sent
        (a big one joined and hashed off the event loop)."""
        if self._body is not None:
            return self._body
        if self._received > self.max_upload_bytes:
            self._too_large()
        chunks, self._chunks = self._chunks, []
        expected = self.request.headers.get("X-Content-SHA256")
        self._body, self._body_sha256 = await in_thread(_joined, chunks, expected,
                                                        big=self._received > BIG_BODY)
        return self._body

    async def body_sha256(self) -> str:
        """The sha256 of the body (hex; a big one hashed off the event loop, once)."""
        body = await self.body()
        if self._body_sha256 is None:
            self._body_sha256 = await in_thread(_sha256, body, big=len(body) > BIG_BODY)
        return self._body_sha256

    @property
    def service(self) -> RoomService:
        return self.settings["zndraw_service"]()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.settings["zndraw_max_upload_mb"] * (1 << 20))

    @functools.cached_property
    def caller(self) -> Caller:
        """Who the request is made by: the user, and the session owning leases and undo
        history (the ``X-ZnDraw-Session`` header)."""
        return caller_of(self.identity, self.request.headers.get("X-ZnDraw-Session"))

    def int_argument(self, name: str, default: int | None = None) -> int:
        value = self.get_query_argument(name, None)
        if value is None:
            if default is None:
                raise BadRequest(f"missing query argument {name!r}")
            return default
        if not INDEX_PART.match(value):
            raise BadRequest(f"query argument {name!r} must be an integer, not {value!r}")
        return int(value)

    def base_version(self) -> int:
        value = self.get_query_argument("base_version", None)
        if value is None:
            raise BadRequest(
                "missing query argument 'base_version': state the version your change is "
                "based on (the room's order_version, or the frame's version)"
            )
        return self.int_argument("base_version")

    async def idempotency(self) -> Idempotency | None:
        """The write's ``Idempotency-Key`` (None without one) with a digest of what makes
        the request: method, path, query, session and the body's sha256."""
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return None
        if not IDEMPOTENCY_KEY.match(key):
            raise BadRequest(f"invalid Idempotency-Key {key[:120]!r}: use 1-100 letters, "
                             "digits, '_', '-', '.' or ':'")
        digest = hashlib.sha256()
        request = self.request
        for part in (request.method, request.path, request.query, self.caller.session,
                     await self.body_sha256()):
            digest.update(part.encode() + b"\n")
        return Idempotency(key, digest.hexdigest())

    async def json_body(self) -> dict[str, Any]:
        return await self.json_from(await self.body())

    @staticmethod
    async def json_from(raw: bytes) -> dict[str, Any]:
        return await in_thread(_parse_json, raw, big=len(raw) > BIG_BODY)

    def on_finish(self) -> None:
        super().on_finish()
        self.settings["zndraw_metrics"].requests.labels(
            type(self).__name__, self.request.method, self.get_status()
        ).observe(self.request.request_time())

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if not self._reading:  # refused unread: Tornado closes the connection after this
            self.set_header("Connection", "close")
        error = kwargs.get("exc_info", (None, None, None))[1]
        payload = getattr(error, "payload", None)
        if payload is None:
            message = getattr(error, "log_message", None) or self._reason
            payload = {"error": self._reason.lower().replace(" ", "_"), "message": message}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


class UploadHandler(BaseHandler):
    """A handler whose body is a batch of frames (msgpack)."""

    async def batch(self, validate: bool = True) -> FrameBatch:
        body = await self.body()
        if not body:
            raise BadRequest("the request has no body: send frames as msgpack (docs/protocol.md)")
        return await in_thread(_decode_batch, body, validate, big=len(body) > BIG_BODY)


def _joined(chunks: list[bytes], expected_sha256: str | None) -> tuple[bytes, str | None]:
    """The body of ``chunks`` and, if one was ``expected``, its sha256 (checked)."""
    body = b"".join(chunks)
    if expected_sha256 is None:
        return body, None
    actual = _sha256(body)
    expected = expected_sha256.strip().lower().removeprefix("sha256:")
    if not hmac.compare_digest(actual, expected):
        raise BadRequest(
            "the body does not match its X-Content-SHA256: it was corrupted or "
            "truncated on the way; nothing was written", received_sha256=actual)
    return body, actual


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}", parse_constant=_not_json)
    except RecursionError:  # json's parser recurses once per level
        raise BadRequest("the JSON body nests too deeply") from None
    except ValueError as error:
        raise BadRequest(f"malformed JSON body: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest("the JSON body must be an object")
    return body


def _not_json(name: str) -> None:
    raise BadRequest(f"malformed JSON body: {name} is not JSON")


def _decode_batch(body: bytes, validate: bool) -> FrameBatch:
    return FrameBatch.from_wire(codec.decode(body), validate)


async def maybe_await(value: Any) -> Any:
    """``value``, awaited if it is awaitable (an auth base's ``prepare`` may be either)."""
    if isinstance(value, Awaitable):
        return await value
    return value
