"""Tornado handlers of the HTTP data channel, shared by the Jupyter extension and the
standalone server.

Each handler here is a mixin holding the logic; :func:`build_handlers` combines them with
an authentication base class (Jupyter's ``APIHandler`` or the standalone token handler).
Metadata travels as JSON, frames as msgpack (see ``docs/protocol.md``). What they share
(bodies, errors, the caller) is :class:`~.base.BaseHandler`.
"""

from __future__ import annotations

from typing import Any

from tornado import web

from .. import __version__, codec
from ..errors import BadRequest
from ..frames import FIELD_NAME, FrameBatch
from ..jobs.handlers import ROUTES as JOB_ROUTES
from ..room_service import DEFAULT, in_thread
from ..state.base import IndexSpec, RoomInfo
from .base import API_PREFIX, BaseHandler, UploadHandler, api
from .export import ExportHandler
from .figures import FIGURE, FigureHandler
from .protocol import (
    lease_target,
    lease_ttl,
    parse_index,
    parse_positions,
    parse_selection,
    undo_group,
)
from .shared import BookmarkHandler, BookmarksHandler, SelectionHandler

ROOM = r"(?P<room>[^/]+)"


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
        key = await self.idempotency()
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
                                           key=await self.idempotency())
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
            order_base=base, group=group, key=await self.idempotency())
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


class FieldsHandler(BaseHandler):
    """The fields the room's frames carry: ``{"length", "seq", "fields": {name: {"dtype",
    "shape"}}}`` (``dtype`` null: plain values; ``shape`` per frame, ``[]``: a number)."""

    @api
    async def get(self, room: str) -> None:
        described = await self.service.describe(self.caller, room)
        self.write_json({"length": described.length, "seq": described.seq,
                         "fields": {name: info.to_json()
                                    for name, info in sorted(described.fields.items())}})


class FrameHandler(UploadHandler):
    """Replace one frame (PUT) or some of its fields (PATCH)."""

    async def _write(self, room: str, index: str, partial: bool) -> None:
        base = self.base_version()
        frame_id = self.get_query_argument("id", None)
        batch = await self.batch(validate=not partial)
        key = await self.idempotency()
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
        commit = await replay(self.caller, room, await self.idempotency())
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
        (rf"/rooms/{ROOM}/fields", FieldsHandler),
        (rf"/rooms/{ROOM}/splice", SpliceHandler),
        (rf"/rooms/{ROOM}/frames/(?P<index>-?[0-9]{{1,12}})", FrameHandler),
        (rf"/rooms/{ROOM}/frames/(?P<index>-?[0-9]{{1,12}})/history", HistoryHandler),
        (rf"/rooms/{ROOM}/(?P<action>undo|redo)", UndoHandler),
        (rf"/rooms/{ROOM}/events", EventsHandler),
        (rf"/rooms/{ROOM}/access", AccessHandler),
        (rf"/rooms/{ROOM}/export", ExportHandler),
        (rf"/rooms/{ROOM}/leases/{target}", LeaseHandler),
        (rf"/rooms/{ROOM}/selection", SelectionHandler),
        (rf"/rooms/{ROOM}/bookmarks", BookmarksHandler),
        (rf"/rooms/{ROOM}/bookmarks/(?P<name>[^/]+)", BookmarkHandler),
        *JOB_ROUTES,
        (rf"/figures/{FIGURE}", FigureHandler),
    ]
    specs = []
    for path, handler in routes:
        cls = web.stream_request_body(type(handler.__name__, (handler, auth_base), {}))
        specs.append((prefix + path, cls))
    specs.append((prefix + "/ws", control))
    return specs
