"""``GET rooms/<room>/export?format=...&index=...``: a room's frames as a file in any format
ase writes (:mod:`zndraw_widget.export`), streamed as it is written.

The writing runs in a thread of its own pool; its output reaches the response through a
:class:`Pipe` of a few pieces, so a slow receiver slows the writer and memory stays bounded.
Problems found before the first piece (format, index, access, a format that holds one
frame, a size limit, frames ase cannot write in that format) are 4xx JSON answers; a failure
after the headers were sent cuts the connection, so a partial file is never taken for a
whole one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tornado.iostream import StreamClosedError

from ..errors import BadRequest
from ..export import Cancelled, Export, ExportFormat, export_format
from .base import BaseHandler, api
from .protocol import parse_index

log = logging.getLogger(__name__)
#: The threads exports write in (more exports wait their turn; reads are not held up).
EXPORTS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="zndraw-export")
_END = object()


class Pipe:
    """Pieces from a writing thread to the event loop, at most ``slots`` in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop, slots: int = 4) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._slots = threading.Semaphore(slots)
        self.cancelled = threading.Event()

    def send(self, piece: bytes) -> None:
        """Hand ``piece`` on (in the thread); wait while ``slots`` pieces are in flight."""
        while not self._slots.acquire(timeout=0.5):
            if self.cancelled.is_set():
                raise Cancelled
        if self.cancelled.is_set():
            raise Cancelled
        self._loop.call_soon_threadsafe(self._queue.put_nowait, piece)

    def run(self, work: Callable[[], None]) -> None:
        """Do ``work`` (in the thread), then hand on the end, or the error it raised."""
        try:
            work()
            item: Any = _END
        except Exception as error:  # handed to the event loop
            item = error
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    async def get(self) -> bytes | None:
        """The next piece, None at the end; raises what the work raised."""
        item = await self._queue.get()
        if isinstance(item, Exception):
            raise item
        if item is _END:
            return None
        self._slots.release()
        return item


class ExportHandler(BaseHandler):
    """A room's frames as a file (see the module)."""

    _pipe: Pipe | None = None

    @api
    async def get(self, room: str) -> None:
        fmt = export_format(self.get_query_argument("format", None))
        spec = parse_index(self.get_query_argument("index", None))
        resolved = await self.service.resolve(self.caller, room, spec)
        self._pipe = pipe = Pipe(asyncio.get_running_loop())
        export = Export(fmt, self.service.storage.read, [ref.location for ref in resolved.refs],
                        pipe.send, self.service.limits.response_bytes)
        asyncio.get_running_loop().run_in_executor(EXPORTS, pipe.run, export.run)
        try:
            piece = await pipe.get()  # nothing is sent before the first piece (or the end)
        except (ValueError, TypeError, KeyError, NotImplementedError) as error:
            raise BadRequest(f"ase cannot write these frames as {fmt.name!r}: {error}",
                             format=fmt.name) from None
        self._headers_for(fmt, room, len(resolved.refs))
        try:
            while piece is not None:
                self.write(piece)
                await self.flush()
                piece = await pipe.get()
        except StreamClosedError:
            pipe.cancelled.set()
            return
        except Exception as error:  # after the headers: cut the response off
            log.warning("export of room %r as %s failed after the headers: %s", room,
                        fmt.name, error)
            pipe.cancelled.set()
            self.request.connection.close()
            return
        self.finish()

    def _headers_for(self, fmt: ExportFormat, room: str, frames: int) -> None:
        self.set_header("Content-Type", fmt.content_type)
        self.set_header("Content-Disposition", f'attachment; filename="{room}.{fmt.extension}"')
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-ZnDraw-Frames", str(frames))

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if self._pipe is not None:
            self._pipe.cancelled.set()
