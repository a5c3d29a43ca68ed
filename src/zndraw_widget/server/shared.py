"""Handlers of what a room shares besides frames: each user's selection and the room's
bookmarks (JSON; docs/protocol.md "Selection and bookmarks"). Their changes reach the
room's views as ``selection`` and ``bookmark`` events on the control channel."""

from __future__ import annotations

from .base import BaseHandler, api


class SelectionHandler(BaseHandler):
    """Every user's selection (GET); share the caller's own (PUT ``{"atoms": [...]}``)."""

    @api
    async def get(self, room: str) -> None:
        selections = await self.service.selections(self.caller, room)
        self.write_json({"user": self.caller.user, "selections": selections})

    @api
    async def put(self, room: str) -> None:
        body = await self.json_body()
        atoms = await self.service.set_selection(self.caller, room, body.get("atoms"))
        self.write_json({"user": self.caller.user, "atoms": atoms})


class BookmarksHandler(BaseHandler):
    @api
    async def get(self, room: str) -> None:
        self.write_json({"bookmarks": await self.service.bookmarks(self.caller, room)})


class BookmarkHandler(BaseHandler):
    """Set (PUT ``{"frame": 3, "camera": {...} or null}``) or delete one bookmark."""

    @api
    async def put(self, room: str, name: str) -> None:
        bookmark = await self.service.set_bookmark(self.caller, room, name,
                                                   await self.json_body())
        self.write_json({"name": name, **bookmark})

    @api
    async def delete(self, room: str, name: str) -> None:
        await self.service.delete_bookmark(self.caller, room, name)
        self.set_status(204)
        self.finish()
