"""Tornado handlers of the HTTP data channel, shared by the Jupyter extension and the
standalone server.

Each handler here is a mixin holding the logic; :func:`build_handlers` combines them with
an authentication base class (Jupyter's ``APIHandler`` or the standalone token handler).
Metadata travels as JSON, frames as msgpack (see ``docs/protocol.md``). Every body streams
in and is read only once the request is authenticated: until then the server's own (small)
body limit holds.

Why one file over 400 lines: it is every handler of the data channel with the base that
reads, bounds and decodes their bodies, so that :func:`build_handlers` mounts them in one
list; a split into a base module and route modules is planned.
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

from .. import __version__, codec
from ..caller import Caller, User
from ..errors import BadRequest, PayloadTooLarge, ZnDrawError
from ..frames import FIELD_NAME, FrameBatch
from ..rooms import DEFAULT, RoomService, in_thread
from ..state.base import IDEMPOTENCY_KEY, Idempotency, IndexSpec, RoomInfo
from .protocol import (
    INDEX_PART,
    caller_of,
    lease_target,
    lease_ttl,
    parse_index,
    parse_positions,
    parse_selection,
    undo_group,
)

API_PREFIX = "zndraw/api"
BIG_BODY = 1 << 20  # bodies past this are joined, hashed and parsed off the event loop
YIELD_EVERY = 4 << 20  # bytes of body received between turns of the event loop
#: A refused request's body up to this size is read and dropped before the answer: a proxy
#: streaming it (nginx) would otherwise turn the early answer and close into a 502.
REFUSED_DRAIN = 4 << 20
ROOM = r"(?P<room>[^/]+)"


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
        self._refusal: web.HTTPError | None = None

    async def prepare(self) -> None:
        try:
            await _maybe_await(super().prepare())  # authentication
        except web.HTTPError as refusal:
            length = self.request.headers.get("Content-Length", "")
            if not (length.isdigit() and 0 < int(length) <= REFUSED_DRAIN):
                raise  # nothing to drop, or too much: answered unread, the connection closed
            self._refusal = refusal  # answered (by the handler method) once the body is dropped
            self.request.connection.set_max_body_size(REFUSED_DRAIN)
            self._reading = True
            return
        if self._finished:
            return
        hard_limit = self.DRAIN_FACTOR * self.max_upload_bytes
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > hard_limit:
            self._too_large()
        self.request.connection.set_max_body_size(hard_limit)
        self._reading = True

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self._received += len(chunk)
        if self._refusal is not None:
            return None  # dropped
        if self._received <= self.max_upload_bytes:
            self._chunks.append(chunk)
        else:
            self._chunks = []
        if self._received % YIELD_EVERY < len(chunk):  # a big body arriving fast would
            return asyncio.sleep(0)  # be read without letting other requests run
        return None

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
        self._body = await in_thread(_joined, chunks, expected, big=self._received > BIG_BODY)
        return self._body

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

    def idempotency(self, body: bytes) -> Idempotency | None:
        """The write's ``Idempotency-Key`` (None without one) with a digest of what makes
        the request: method, path, query, session and ``body``."""
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return None
        if not IDEMPOTENCY_KEY.match(key):
            raise BadRequest(f"invalid Idempotency-Key {key[:120]!r}: use 1-100 letters, "
                             "digits, '_', '-', '.' or ':'")
        digest = hashlib.sha256()
        request = self.request
        for part in (request.method, request.path, request.query, self.caller.session):
            digest.update(part.encode() + b"\n")
        digest.update(body)
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


def _joined(chunks: list[bytes], expected_sha256: str | None) -> bytes:
    body = b"".join(chunks)
    if expected_sha256 is not None:
        actual = hashlib.sha256(body).hexdigest()
        expected = expected_sha256.strip().lower().removeprefix("sha256:")
        if not hmac.compare_digest(actual, expected):
            raise BadRequest(
                "the body does not match its X-Content-SHA256: it was corrupted or "
                "truncated on the way; nothing was written", received_sha256=actual)
    return body


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


async def _maybe_await(value: Any) -> Any:
    if isinstance(value, Awaitable):
        return await value
    return value


# -- the handlers -------------------------------------------------------------------------
class HealthHandler(BaseHandler):
    @api
    async def get(self) -> None:
        await self.service.ping()  # 503 backend_unavailable while the state backend is down
        self.write_json({"status": "ok", "version": __version__})


class RoomsHandler(BaseHandler):
    @api
    async def get(self) -> None:
        offset = self.int_argument("offset", 0)
        limit = self.int_argument("limit", 100)
        total, rooms = await self.service.list_rooms(self.caller, offset, limit)
        self.write_json({"total": total, "offset": offset, "limit": limit,
                         "rooms": [room.to_json() for room in rooms]})

    @api
    async def post(self) -> None:
        body = await self.json_body()
        base = body.get("base", DEFAULT) if "base" in body else DEFAULT
        info = await self.service.create_room(
            self.caller, body.get("name"), base, description=body.get("description") or "",
            ephemeral=body.get("ephemeral") is True)
        self.write_json(info.to_json(), status=201)


class RoomHandler(BaseHandler):
    @api
    async def get(self, room: str) -> None:
        info = await self.service.room_info(self.caller, room)
        leases = await self.service.leases(self.caller, room)
        self.write_json({**info.to_json(), "leases": [lease.to_json() for lease in leases]})

    @api
    async def patch(self, room: str) -> None:
        """``{"description": "...", "keep": true}``: describe the room; keep an ephemeral one."""
        body = await self.json_body()
        info = await self.service.set_room_fields(self.caller, room,
                                                  description=body.get("description"),
                                                  keep=body.get("keep") is True)
        self.write_json(info.to_json())

    @api
    async def delete(self, room: str) -> None:
        await self.service.delete_room(self.caller, room)
        self.set_status(204)
        self.finish()


def access_json(info: RoomInfo) -> dict[str, Any]:
    return {"owner": info.owner, "grants": info.grants, "role": info.role}


class AccessHandler(BaseHandler):
    """Who may do what in a room: read it (GET), or, as its admin, change it (PUT)."""

    @api
    async def get(self, room: str) -> None:
        self.write_json(access_json(await self.service.room_info(self.caller, room)))

    @api
    async def put(self, room: str) -> None:
        body = await self.json_body()
        if "grants" not in body:
            raise BadRequest("missing 'grants': send {\"owner\"?: user, \"grants\": {...}}")
        info = await self.service.set_access(self.caller, room, body["grants"],
                                             body.get("owner", DEFAULT))
        self.write_json(access_json(info))


class DefaultRoomHandler(BaseHandler):
    @api
    async def get(self) -> None:
        self.write_json({"name": await self.service.get_default_room(self.caller)})

    @api
    async def put(self) -> None:
        name = (await self.json_body()).get("name")
        await self.service.set_default_room(self.caller, name)
        self.write_json({"name": name})


def parse_fields(names: list[str] | None) -> tuple[list[str] | None, frozenset[str]]:
    """The field names asked for, and those of them marked optional with a trailing ``?``
    (left out where no frame has them, instead of a 400)."""
    if not names:
        return None, frozenset()
    if not all(isinstance(n, str) for n in names):
        raise BadRequest(f"invalid field names {names}")
    optional = frozenset(n[:-1] for n in names if n.endswith("?"))
    names = list(dict.fromkeys(n.removesuffix("?") for n in names))
    bad = [n for n in names if not FIELD_NAME.match(n)]
    if bad:
        raise BadRequest(f"invalid field names {bad}")
    return names, optional


class ReadMixin(BaseHandler):
    async def send_frames(self, room: str, spec: IndexSpec, fields: list[str] | None) -> None:
        """Send a read; a large one piece by piece, its arrays straight from memory."""
        read = await self.service.read(self.caller, room, spec, *parse_fields(fields))
        self.set_header("Content-Type", "application/msgpack")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("Etag", read.etag)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        if len(read.pieces) == 1:
            self.finish(read.pieces[0])
            return
        self.set_header("Content-Length", sum(len(piece) for piece in read.pieces))
        await self.flush()  # the headers
        for piece in read.pieces:
            await self.request.connection.write(piece)
        self.finish()


class FramesHandler(ReadMixin, UploadHandler):
    """Read, insert (append) and delete frames of a room."""

    @api
    async def get(self, room: str) -> None:
        spec = parse_index(self.get_query_argument("index", None))
        fields = self.get_query_argument("data", None)
        await self.send_frames(room, spec, fields.split(",") if fields else None)

    @api
    async def post(self, room: str) -> None:
        at = self.get_query_argument("at", None)
        index = None if at is None else self.int_argument("at")
        base = self.base_version()
        batch = await self.batch()
        key = self.idempotency(await self.body())
        commit = await self.service.insert(self.caller, room, batch, index=index,
                                           order_base=base, key=key)
        self.write_json({"seq": commit.seq, "order_version": commit.order_version,
                         "count": len(batch)}, status=201)

    @api
    async def delete(self, room: str) -> None:
        body = await self.body()
        if body:  # a selection too long for a URL: {"index": [...]}
            spec = parse_selection((await self.json_from(body)).get("index"))
        else:
            spec = parse_index(self.get_query_argument("index", None))
        commit = await self.service.delete(self.caller, room, spec,
                                           order_base=self.base_version(),
                                           key=self.idempotency(body))
        self.write_json({"seq": commit.seq, "order_version": commit.order_version})


class SpliceHandler(UploadHandler):
    """One atomic change of any shape (``POST``, msgpack): ``{"delete": selection,
    "update": [positions], "insert": [positions], "data": {...}}``; see docs/protocol.md."""

    @api
    async def post(self, room: str) -> None:
        base = self.base_version()
        group = undo_group(self.request.headers.get("X-ZnDraw-Undo-Group"))
        body = await self.body()
        if not body:
            raise BadRequest("the request has no body: send the change as msgpack "
                             "(docs/protocol.md)")
        message = await in_thread(codec.decode, body, big=len(body) > (1 << 20))
        if not isinstance(message, dict):
            raise BadRequest("the body must be a map")
        delete = message.get("delete")
        spec = None if delete is None else parse_selection(
            delete.tolist() if hasattr(delete, "tolist") else delete)
        batch = None
        if message.get("data"):
            batch = await in_thread(FrameBatch.from_wire, message, big=len(body) > (1 << 20))
        commit = await self.service.splice(
            self.caller, room, delete=spec, update=parse_positions(message.get("update"), "update"),
            insert=parse_positions(message.get("insert"), "insert"), batch=batch,
            order_base=base, group=group, key=self.idempotency(body))
        self.write_json({"seq": commit.seq, "order_version": commit.order_version,
                         "length": commit.events[0]["length"] if commit.events else None})


class SelectHandler(ReadMixin):
    """A read whose selection is too long for a URL: ``{"index": [...], "data": [...]}``."""

    @api
    async def post(self, room: str) -> None:
        body = await self.json_body()
        spec = parse_selection(body.get("index"))
        fields = body.get("data")
        if fields is not None and not isinstance(fields, list):
            raise BadRequest("'data' must be a list of field names")
        await self.send_frames(room, spec, fields)


class FrameHandler(UploadHandler):
    """Replace one frame (PUT) or some of its fields (PATCH)."""

    async def _write(self, room: str, index: str, partial: bool) -> None:
        base = self.base_version()
        frame_id = self.get_query_argument("id", None)
        batch = await self.batch(validate=not partial)
        key = self.idempotency(await self.body())
        commit = await self.service.replace(self.caller, room, int(index), batch,
                                            base_version=base, partial=partial,
                                            frame_id=frame_id, key=key)
        self.write_json({"seq": commit.seq, "version": commit.versions[0]})

    @api
    async def put(self, room: str, index: str) -> None:
        await self._write(room, index, partial=False)

    @api
    async def patch(self, room: str, index: str) -> None:
        await self._write(room, index, partial=True)


class HistoryHandler(BaseHandler):
    @api
    async def get(self, room: str, index: str) -> None:
        self.write_json({"versions": await self.service.history(self.caller, room, int(index))})


class UndoHandler(BaseHandler):
    @api
    async def post(self, room: str, action: str) -> None:
        replay = self.service.undo if action == "undo" else self.service.redo
        commit = await replay(self.caller, room, self.idempotency(await self.body()))
        self.write_json({"seq": commit.seq, "order_version": commit.order_version,
                         "events": commit.events})


class EventsHandler(BaseHandler):
    @api
    async def get(self, room: str) -> None:
        since = self.int_argument("since", 0)
        info = await self.service.room_info(self.caller, room)
        events = await self.service.events_since(self.caller, room, since)
        self.write_json({"seq": info.seq, "reload": events is None, "events": events or []})


class LeaseHandler(BaseHandler):
    """Take or renew (POST), release (DELETE) a lease: ``order``, ``presenter`` or
    ``frame:<id>``."""

    @api
    async def post(self, room: str, target: str) -> None:
        target = lease_target(target)
        ttl = lease_ttl((await self.json_body()).get("ttl"))
        lease = await self.service.acquire(self.caller, room, target, ttl)
        self.write_json(lease.to_json())

    @api
    async def delete(self, room: str, target: str) -> None:
        released = await self.service.release(self.caller, room, lease_target(target))
        self.write_json({"released": released})


def build_handlers(base_url: str, auth_base: type[web.RequestHandler],
                   control: type[web.RequestHandler]) -> list[tuple]:
    """URL specs of every data-channel handler, authenticated by ``auth_base``, and of the
    control channel's websocket handler ``control``."""
    prefix = base_url.rstrip("/") + "/" + API_PREFIX
    target = r"(?P<target>[^/]+)"
    routes = [
        (r"/health", HealthHandler),
        (r"/rooms", RoomsHandler),
        (r"/default-room", DefaultRoomHandler),
        (rf"/rooms/{ROOM}", RoomHandler),
        (rf"/rooms/{ROOM}/frames", FramesHandler),
        (rf"/rooms/{ROOM}/select", SelectHandler),
        (rf"/rooms/{ROOM}/splice", SpliceHandler),
        (rf"/rooms/{ROOM}/frames/(?P<index>-?[0-9]{{1,12}})", FrameHandler),
        (rf"/rooms/{ROOM}/frames/(?P<index>-?[0-9]{{1,12}})/history", HistoryHandler),
        (rf"/rooms/{ROOM}/(?P<action>undo|redo)", UndoHandler),
        (rf"/rooms/{ROOM}/events", EventsHandler),
        (rf"/rooms/{ROOM}/access", AccessHandler),
        (rf"/rooms/{ROOM}/leases/{target}", LeaseHandler),
    ]
    specs = []
    for path, handler in routes:
        cls = web.stream_request_body(type(handler.__name__, (handler, auth_base), {}))
        specs.append((prefix + path, cls))
    specs.append((prefix + "/ws", control))
    return specs
