"""The figure mailbox: pictures a browser view renders for its kernel.

A kernel asks its views for a screenshot or a movie frame over the widget comm (kernel to
browser works while a cell runs); the view answers here, not on the comm, because a busy
kernel reads no comm messages until its cell ends. The view ``PUT``s the PNG (or an error)
under the random id the kernel chose; the kernel ``GET``s it, waiting up to ``timeout``
seconds. A figure is kept per user, taken once, and dropped after ``TTL`` seconds.

The mailbox lives in the server process: kernel and browser must reach the same process
(always so in Jupyter and with one standalone process; several processes behind a
balancer need sticky sessions).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..errors import AlreadyExists, BadRequest, NotFound, PayloadTooLarge, ZnDrawError
from .base import BaseHandler, api

FIGURE = r"(?P<figure>[A-Za-z0-9_-]{16,100})"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TTL = 300.0
MAX_WAIT = 120
#: Figures waiting for their kernels, all users together, at most this many bytes.
MAX_BYTES = 1 << 30


class FigureFailed(ZnDrawError):
    """The view could not render the figure (its message says why)."""

    status = 422
    code = "figure_failed"


@dataclass
class Figure:
    png: bytes
    error: str
    #: The session of the view that sent it (the kernel names it to its views).
    view: str
    expires: float


class FigureBox:
    """Figures by (user, id): put once by a view, taken once by the kernel."""

    def __init__(self, ttl: float = TTL, max_bytes: int = MAX_BYTES) -> None:
        self.ttl, self.max_bytes = ttl, max_bytes
        self._figures: dict[tuple[str, str], Figure] = {}
        self._waiting: dict[tuple[str, str], asyncio.Event] = {}

    @property
    def size(self) -> int:
        return sum(len(f.png) for f in self._figures.values())

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, f in self._figures.items() if f.expires < now]:
            del self._figures[key]

    def put(self, user: str, figure: str, view: str, png: bytes = b"", error: str = "") -> None:
        self._expire()
        key = (user, figure)
        if key in self._figures:
            raise AlreadyExists(f"figure {figure!r} was sent already")
        if self.size + len(png) > self.max_bytes:
            raise PayloadTooLarge("too many figures are waiting for their kernels; try again "
                                  "once they are taken")
        self._figures[key] = Figure(png, error, view, time.monotonic() + self.ttl)
        if key in self._waiting:
            self._waiting[key].set()

    async def take(self, user: str, figure: str, timeout: float) -> Figure | None:
        """The figure, waiting up to ``timeout`` seconds for it (None: it did not come)."""
        key = (user, figure)
        if key not in self._figures:
            event = self._waiting.setdefault(key, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                return None
            finally:
                self._waiting.pop(key, None)
        return self._figures.pop(key, None)


BOX = FigureBox()


class FigureHandler(BaseHandler):
    """``PUT figures/<id>``: a view's PNG (``image/png``) or ``{"error": "..."}``;
    ``GET figures/<id>?timeout=<s>``: the kernel takes it (404 if none came in time, 422
    with the view's message if it failed)."""

    @api
    async def put(self, figure: str) -> None:
        body = await self.body()
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            error = (await self.json_from(body)).get("error")
            if not isinstance(error, str) or not error:
                raise BadRequest('a failed figure is {"error": "<what went wrong>"}')
            BOX.put(self.caller.user, figure, self.caller.session, error=error[:1000])
        elif body.startswith(PNG_SIGNATURE):
            BOX.put(self.caller.user, figure, self.caller.session, png=body)
        else:
            raise BadRequest("send the figure as a PNG (Content-Type image/png), or "
                             '{"error": ...} (application/json)')
        self.write_json({"figure": figure}, status=201)

    @api
    async def get(self, figure: str) -> None:
        timeout = self.int_argument("timeout", 30)
        if not 0 <= timeout <= MAX_WAIT:
            raise BadRequest(f"query argument 'timeout' must be 0 to {MAX_WAIT} seconds")
        found = await BOX.take(self.caller.user, figure, timeout)
        if found is None:
            raise NotFound(f"no view sent figure {figure!r} within {timeout} s: is a view of "
                           "the viewer displayed (and its page open)?")
        if found.error:
            raise FigureFailed(f"the view could not render it: {found.error}")
        self.set_header("Content-Type", "image/png")
        self.set_header("X-ZnDraw-View", found.view)
        self.finish(found.png)
