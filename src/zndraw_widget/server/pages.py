"""The standalone server's own pages: a room list at its root, a full-page viewer per room.

Both are plain HTML; the viewer page loads the widget's bundle (the file anywidget loads in
a notebook) and mounts it with a small in-page model, so the page and the notebook share
every line of the front end. The room list shows each room's owner and your role in it,
and for the rooms you administer a share form that the bundle's ``shareForms`` wires
(``js/share.ts``). The browser then calls the API with the login cookie that ``?token=``
sets (see :class:`~zndraw_widget.server.standalone.TokenAuth`).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tornado import web
from tornado.httputil import url_concat

from ..caller import User
from ..errors import ZnDrawError
from ..state.base import check_room_name
from ..static_page import IN_PAGE_MODEL
from .base import maybe_await
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
details form { margin: 8px 0; flex-wrap: wrap; }
details output { flex-basis: 100%; }
.muted { opacity: 0.7; }
"""

# The form that shares one room (for its admins); js/share.ts reads these field names.
SHARE_FORM = """<details><summary>share</summary><form data-zndraw-share="{room}">
<select name=kind aria-label="share with"><option value=user>user</option>
<option value=group>group</option><option value=everyone>everyone</option></select>
<input name=name placeholder="user or group name" aria-label="user or group name">
<select name=role aria-label=role><option>read</option><option>write</option>
<option>admin</option><option value=remove>remove</option></select>
<button>Apply</button><output class=muted></output></form></details>"""

VIEWER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>:root {{ color-scheme: light dark; }} html, body {{ height: 100%; margin: 0; }}
#viewer {{ --zn-height: 100vh; }}</style>
</head><body data-base-url="{base}">
<div id="viewer"></div>
<script type="module">
const state = {state};
{model}
const {{ default: widget }} = await import({bundle});
widget.render({{ model, el: document.getElementById("viewer") }});
document.querySelector(".zn-root")?.focus();
</script></body></html>
"""


class PageHandler(web.RequestHandler):
    """HTML pages behind the standalone server's login; errors as short HTML."""

    identity: User  # from the authentication base

    @property
    def base(self) -> str:
        return self.settings["zndraw_base_url"]

    async def prepare(self) -> None:
        await maybe_await(super().prepare())  # the hub's authentication asks the hub
        if self._finished:
            return
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


def room_row(base: str, info: dict[str, Any]) -> str:
    """One room of the list: link, frames, description (marked if ephemeral), owner (— for
    an open room), your role and, if that is admin, the share form."""
    link = f"{escape(base)}rooms/{escape(quote(info['name'], safe=''))}"
    role = info.get("role")
    share = SHARE_FORM.format(room=escape(info["name"])) if role == "admin" else ""
    return (f'<tr><td><a href="{link}">{escape(info["name"])}</a></td>'
            f"<td class=n>{info['length']:,}</td>"
            f"<td class=muted>{escape(info.get('description') or '')}"
            f"{' (ephemeral)' if info.get('expires') is not None else ''}</td>"
            f"<td>{escape(info.get('owner') or '—')}</td>"
            f"<td>{escape(role or '—')}</td><td>{share}</td></tr>")


class RoomListPage(PageHandler):
    """``GET {base}``: the rooms (owner, your role, a share form where you are admin), a
    page at a time, and a field to open one by name."""

    async def get(self) -> None:
        name = self.get_query_argument("open", "").strip()
        if name:
            self.redirect(f"{self.base}rooms/{quote(name, safe='')}")
            return
        offset = self.get_query_argument("offset", "0")
        if not offset.isdigit():
            raise web.HTTPError(400, "offset must be a whole number")
        offset = int(offset)
        caller = caller_of(self.identity, None)
        total, rooms = await self.settings["zndraw_service"]().list_rooms(caller, offset,
                                                                          PAGE_SIZE)
        infos = [room.to_json() for room in rooms]  # owner and role as the API shows them
        rows = "".join(room_row(self.base, info) for info in infos)
        script = ""
        if any(info.get("role") == "admin" for info in infos):  # share forms to wire
            script = ('<script type="module">const { shareForms } = await import('
                      f'{json.dumps(f"{self.base}static/widget.js")}); shareForms(document);'
                      "</script>")
        more = ""
        if offset + PAGE_SIZE < total:
            more = f'<p><a href="?offset={offset + PAGE_SIZE}">next {PAGE_SIZE}</a></p>'
        self.finish(
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>zndraw-widget"
            f"</title><style>{STYLE}</style></head><body data-base-url=\"{escape(self.base)}\">"
            "<main><h1>Rooms</h1>"
            f'<form action="{escape(self.base)}"><input name="open" placeholder="room name" '
            f'aria-label="room name" required><button>Open</button></form>'
            f"<table><tr><th>room</th><th class=n>frames</th><th>description</th><th>owner</th>"
            f"<th>your role</th><th></th></tr>{rows}</table>"
            f'<p class="muted">{total:,} room{"s" if total != 1 else ""}</p>{more}'
            f"</main>{script}</body></html>")


class RoomPage(PageHandler):
    """``GET {base}rooms/<name>``: one room in a full-window viewer."""

    def get(self, room: str) -> None:
        try:
            check_room_name(room)
        except ZnDrawError as error:
            raise web.HTTPError(400, str(error).replace("%", "%%")) from None
        state = {"room": room, "api_url": "", "step": 0, "selection": [], "height": 0}
        self.finish(VIEWER_PAGE.format(model=IN_PAGE_MODEL,
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

