"""The standalone server's own pages: a room list at its root, a full-page viewer per room.

Both are plain HTML; the viewer page loads the widget's bundle (the file anywidget loads in
a notebook) and mounts it with a small in-page model, so the page and the notebook share
every line of the front end. The browser then calls the API with the login cookie that
``?token=`` sets (see :class:`~zndraw_widget.server.standalone.TokenAuth`).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tornado import web
from tornado.httputil import url_concat

from ..errors import ZnDrawError
from ..state.base import check_room_name
from .protocol import caller_of

BUNDLE = Path(__file__).resolve().parents[1] / "static" / "widget.js"
PAGE_SIZE = 100

STYLE = """
:root { color-scheme: light dark; }
body { margin: 0; font: 14px/1.5 system-ui, sans-serif; }
main { max-width: 760px; margin: 32px auto; padding: 0 16px; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 6px 8px; border-bottom: 1px solid #8884; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
form { margin: 16px 0; display: flex; gap: 8px; }
input { flex: 1; padding: 4px 8px; font: inherit; }
.muted { opacity: 0.7; }
"""

VIEWER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html, body {{ height: 100%; margin: 0; }} #viewer {{ --zn-height: 100vh; }}</style>
</head><body data-base-url="{base}">
<div id="viewer"></div>
<script type="module">
const state = {state};
const listeners = new Map();
const model = {{
  get: (name) => state[name],
  set: (name, value) => {{ state[name] = value; }},
  save_changes: () => {{}},
  on: (event, callback) => listeners.set(event, [...(listeners.get(event) || []), callback]),
  off: (event, callback) =>
    listeners.set(event, (listeners.get(event) || []).filter((c) => c !== callback)),
}};
const {{ default: widget }} = await import({bundle});
widget.render({{ model, el: document.getElementById("viewer") }});
document.querySelector(".zn-root")?.focus();
</script></body></html>
"""


class PageHandler(web.RequestHandler):
    """HTML pages behind the standalone server's login; errors as short HTML."""

    user_name: str  # from the authentication base

    @property
    def base(self) -> str:
        return self.settings["zndraw_base_url"]

    def prepare(self) -> None:
        super().prepare()
        if self.get_query_argument("token", None) is not None:  # logged in: now the cookie
            query = {k: v for k, v in self.request.query_arguments.items() if k != "token"}
            self.redirect(url_concat(self.request.path, {k: v[-1].decode() for k, v in
                                                         query.items()}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        reason = escape(getattr(error, "log_message", None) or self._reason)
        how = ""
        if status_code == 401:
            how = (f"<p>Open <code>{escape(self.base)}?token=&lt;token&gt;</code> once with the "
                   "token <code>zndraw-widget serve</code> printed.</p>")
        self.finish(f"<!doctype html><title>{status_code}</title><style>{STYLE}</style><main>"
                    f"<h1>{status_code} {reason}</h1>{how}</main>")


class RoomListPage(PageHandler):
    """``GET {base}``: the rooms, a page at a time, and a field to open one by name."""

    async def get(self) -> None:
        name = self.get_query_argument("open", "").strip()
        if name:
            self.redirect(f"{self.base}rooms/{quote(name, safe='')}")
            return
        offset = self.get_query_argument("offset", "0")
        if not offset.isdigit():
            raise web.HTTPError(400, "offset must be a whole number")
        offset = int(offset)
        caller = caller_of(self.user_name, None)
        total, rooms = await self.settings["zndraw_service"]().list_rooms(caller, offset,
                                                                          PAGE_SIZE)
        rows = "".join(
            f'<tr><td><a href="{escape(self.base)}rooms/{escape(quote(room.name, safe=""))}">'
            f"{escape(room.name)}</a></td><td class=n>{room.length:,}</td>"
            f"<td class=muted>{escape(room.description)}"
            f"{' (ephemeral)' if room.expires is not None else ''}</td></tr>"
            for room in rooms)
        more = ""
        if offset + PAGE_SIZE < total:
            more = f'<p><a href="?offset={offset + PAGE_SIZE}">next {PAGE_SIZE}</a></p>'
        self.finish(
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>zndraw-widget"
            f"</title><style>{STYLE}</style></head><body><main><h1>Rooms</h1>"
            f'<form action="{escape(self.base)}"><input name="open" placeholder="room name" '
            f'aria-label="room name" required><button>Open</button></form>'
            f"<table><tr><th>room</th><th class=n>frames</th><th>description</th></tr>{rows}"
            "</table>"
            f'<p class="muted">{total:,} room{"s" if total != 1 else ""}</p>{more}'
            "</main></body></html>")


class RoomPage(PageHandler):
    """``GET {base}rooms/<name>``: one room in a full-window viewer."""

    def get(self, room: str) -> None:
        try:
            check_room_name(room)
        except ZnDrawError as error:
            raise web.HTTPError(400, str(error).replace("%", "%%")) from None
        state = {"room": room, "api_url": "", "step": 0, "selection": [], "height": 0}
        self.finish(VIEWER_PAGE.format(
            title=escape(f"{room} · zndraw-widget"), base=escape(self.base),
            # JSON inside a <script>: "</" must not end it
            state=json.dumps(state).replace("</", "<\\/"),
            bundle=json.dumps(f"{self.base}static/widget.js")))


class BundleHandler(PageHandler, web.StaticFileHandler):
    """``GET {base}static/widget.js``: the front end bundle (Tornado's static file serving:
    ETag from a cached hash, 304 when unchanged)."""

    def get_content_type(self) -> str:
        return "text/javascript; charset=utf-8"

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")  # revalidated: a rebuild shows at once


def page_handlers(base_url: str, auth_base: type[web.RequestHandler]) -> list[tuple]:
    """URL specs of the pages, each authenticated by ``auth_base``."""
    base = base_url.rstrip("/") + "/"
    pages = [("", RoomListPage, {}), (r"rooms/(?P<room>[^/]+)", RoomPage, {}),
             (r"static/(widget\.js)", BundleHandler, {"path": str(BUNDLE.parent)})]
    return [(base + path, type(handler.__name__, (handler, auth_base), {}), kwargs)
            for path, handler, kwargs in pages]

