"""The receiving end of an upload: the body goes to a spool file, and the job (which starts
with the first bytes) hears through the registry how much of it has arrived, and that this
server still receives it (:attr:`~.model.Upload.renewed`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import IO

from .model import Upload
from .registry import JobRegistry

TELL_BYTES = 4 << 20  # the job hears of the body's progress every this many bytes
TELL_INTERVAL = 0.1  # or this many seconds, whichever comes first


class UploadFeed:
    """Writes an upload's body to ``spool`` and tells job ``job_id`` (through
    ``registry``) how much has arrived, one record at a time, and every ``renew_every``
    seconds that it still receives it, then that it ended."""

    def __init__(self, registry: JobRegistry, job_id: str, spool: IO[bytes],
                 renew_every: float) -> None:
        self.registry, self.job_id, self.spool = registry, job_id, spool
        self.renew_every = renew_every
        self.received = self.renewed = 0
        self._told, self._told_renewed, self._told_at = 0, 0, time.monotonic()
        self._telling: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._renewing = asyncio.get_running_loop().call_later(renew_every, self._renew)
        self.ended = False

    def write(self, chunk: bytes) -> None:
        self.spool.write(chunk)
        self.received += len(chunk)
        if (self.received - self._told >= TELL_BYTES
                or time.monotonic() - self._told_at >= TELL_INTERVAL):
            self._tell()
        elif self._timer is None:  # told in a moment, should nothing more arrive
            self._timer = asyncio.get_running_loop().call_later(TELL_INTERVAL, self._tell)

    def _renew(self) -> None:
        self.renewed += 1
        self._tell()
        self._renewing = asyncio.get_running_loop().call_later(self.renew_every, self._renew)

    def _tell(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._telling is None or self._telling.done():
            self._telling = asyncio.ensure_future(self._send())

    async def _send(self) -> None:
        # what arrived (or a renewal) while it was told: next
        while (self._told, self._told_renewed) != (self.received, self.renewed):
            self.spool.flush()  # the job's parse processes read the file
            received, renewed = self.received, self.renewed
            await self.registry.set_upload(self.job_id, Upload(
                received, renewed=renewed, renew_every=self.renew_every))
            self._told, self._told_renewed, self._told_at = received, renewed, time.monotonic()

    async def end(self, failure: str | None = None) -> None:
        """The body ended (``failure``: broke off, saying why)."""
        if self.ended:
            return
        self.ended = True
        self._renewing.cancel()
        if self._timer is not None:
            self._timer.cancel()
        if self._telling is not None:
            with contextlib.suppress(Exception):
                await self._telling
        self.spool.close()
        await self.registry.set_upload(self.job_id, Upload(
            self.received, failure is None, failure, self.renewed, self.renew_every))
