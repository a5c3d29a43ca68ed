"""The one job code both engines run: parse an uploaded file piece by piece (in parse
processes, several pieces at once), commit each piece's frames in order through the room
service as the uploading user, record progress and tell the room, and keep the job's lease
fresh meanwhile (:class:`Lease`: a server fails a job whose lease lapsed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..caller import Caller
from ..errors import Conflict, ZnDrawError
from ..frames import FrameBatch
from ..room_service import RoomService
from ..state.base import Store
from .model import Job, job_error, upload_stopped, worker_stopped
from .parse import SPLIT_BY_BYTES, Parsed, Piece
from .registry import JobRegistry

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.1  # seconds between a job's progress records and events, at least
FIRST_PIECE_BYTES = 64 << 10  # small, so that the first frames show at once
PIECE_BYTES = 8 << 20  # then pieces grow (x4) up to this
MAX_PIECE_FRAMES = 10_000  # frames per piece of a format split by frames, at most
JOB_EVENT = "job"

MARGIN_BYTES = 1 << 20  # arrived past a piece's end before it is parsed (while uploading)
UPLOAD_RECHECK = 5.0  # seconds a job behind its upload waits to hear of it before looking

Parse = Callable[[Piece, int, bool], Awaitable[Parsed]]  # a piece, bytes arrived, complete


class Ended(Exception):
    """The job's record ended elsewhere (cancelled while queued, failed by a sweep that
    found its lease lapsed): this run of it stops and records nothing more."""


class Lease:
    """A running job's lease in the registry, renewed every ``ttl / 3`` seconds while the
    job runs: its engine's sign of life (:meth:`~.service.Jobs.sweep` fails a job whose
    lease lapsed). ``lost`` once a renewal finds that the job ended elsewhere."""

    def __init__(self, registry: JobRegistry, job_id: str, ttl: float) -> None:
        self.registry, self.job_id, self.ttl = registry, job_id, ttl
        self.lost = False
        self._renewing: asyncio.Task | None = None

    async def __aenter__(self) -> Lease:
        if not await self.registry.hold(self.job_id, self.ttl):
            raise Ended
        self._renewing = asyncio.get_running_loop().create_task(self._renew())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._renewing

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                held = await self.registry.hold(self.job_id, self.ttl)
            except Exception as error:  # noqa: BLE001 (Redis away: the next renewal tries)
                log.warning("renewing the lease of job %s failed: %s", self.job_id, error)
                continue
            if not held:
                self.lost = True
                return


class Board:
    """Records each change of a job in the registry and tells its room (a ``job`` event
    through the store, so every process's connections hear it); progress at most every
    :data:`PROGRESS_INTERVAL` seconds per job."""

    def __init__(self, registry: JobRegistry, store: Callable[[], Store]) -> None:
        self.registry = registry
        self._store = store
        self._told: dict[str, float] = {}

    async def save(self, job: Job, progress: bool = False) -> bool:
        """Record and announce ``job``; False if its record had ended already (nothing
        recorded: see :mod:`.registry`)."""
        now = time.time()
        if progress and now - self._told.get(job.id, 0.0) < PROGRESS_INTERVAL:
            return True
        self._told[job.id] = now
        job.updated = now
        recorded = await self.registry.put(job)
        if job.final or not recorded:
            self._told.pop(job.id, None)
        if recorded:
            with contextlib.suppress(ZnDrawError):  # the room is gone: nobody to tell
                await self._store().publish(job.room, {"type": JOB_EVENT, "job": job.to_json()})
        return recorded


class Planner:
    """The pieces of a file, each planned once enough of the file has arrived and the
    results before it tell enough: byte pieces growing from :data:`FIRST_PIECE_BYTES` to
    :data:`PIECE_BYTES` (while the upload runs, only those with ``margin`` bytes after them
    arrived, room to find the frame start that ends them), or windows of frame indices of
    about :data:`PIECE_BYTES` of parsed data each (the first: one frame), once the whole
    file has arrived."""

    def __init__(self, by_bytes: bool) -> None:
        self.by_bytes = by_bytes
        self._start, self._span, self._ended = 0, FIRST_PIECE_BYTES if by_bytes else 1, False
        self.margin = MARGIN_BYTES

    def next(self, arrived: int, complete: bool) -> Piece | None:
        """The next piece, or None if there is none to plan now."""
        if self._ended or self.finished(arrived, complete):
            return None
        stop = self._start + self._span
        if self.by_bytes:
            if complete:
                stop = min(stop, arrived)
            elif stop + self.margin > arrived:
                return None
            self._span = min(self._span * 4, PIECE_BYTES)
        elif not complete:
            return None
        piece = Piece(self.by_bytes, self._start, stop)
        self._start = stop
        return piece

    def finished(self, arrived: int, complete: bool) -> bool:
        """Whether every piece has been planned."""
        return self._ended or (self.by_bytes and complete and self._start >= arrived)

    def observe(self, parsed: Parsed) -> None:
        if parsed.end or parsed.error is not None:
            self._ended = True
        elif not self.by_bytes and parsed.batch is not None:
            per_frame = max(parsed.batch.nbytes // parsed.frames, 1)
            self._span = max(1, min(PIECE_BYTES // per_frame, MAX_PIECE_FRAMES))

    def again(self, piece: Piece) -> None:
        """Plan from ``piece`` again, with a larger margin (its end lay past the upload)."""
        self._start, self.margin = piece.start, self.margin * 2


async def run_import(job: Job, service: RoomService, board: Board, parse: Parse,
                     width: int, lease_ttl: float) -> Job:
    """Run import ``job``, from the first bytes of its file on (the upload may still be
    running: its progress is in the registry): up to ``width`` pieces parse at once
    (``parse`` runs one in a parse process), committed in order, the job's lease renewed
    (``lease_ttl``) meanwhile. Ends done, failed (the frames before the failure stay; an
    upload that broke off fails the job; so does a parse process that dies) or cancelled
    (the frames committed stay); a room the job created and never committed to is deleted
    again. A job that ended elsewhere meanwhile stops as it was recorded. The spooled file
    is removed."""
    try:
        if await board.registry.cancel_requested(job.id):
            job.state = "cancelled"
        else:
            async with Lease(board.registry, job.id, lease_ttl) as lease:
                job.state = "running"
                if not await board.save(job):
                    raise Ended
                await _import(job, service, board, parse, width, lease)
    except Ended:
        return await board.registry.get(job.id) or job
    except BrokenProcessPool as error:  # killed (e.g. out of memory): the pool is broken
        log.error("import job %s lost a parse process: %s", job.id, error)
        job.state, job.error = "failed", worker_stopped(f"a parse process died: {error}")
    except ZnDrawError as error:
        job.state, job.error = "failed", job_error(f"the frames could not be committed: {error}")
    except Exception as error:  # noqa: BLE001 (a job reports its failure, never raises)
        log.exception("import job %s failed", job.id)
        job.state, job.error = "failed", job_error(f"{type(error).__name__}: {error}")
    finally:
        discard(job.path)
    await conclude(job, service, board)
    return job


async def conclude(job: Job, service: RoomService, board: Board) -> None:
    """Record that ``job`` ended (and tell its room); a room it created and never committed
    to is deleted again (unless the job had been ended elsewhere, which did so)."""
    if (await board.save(job) and job.state != "done" and job.created_room
            and job.frames_done == 0):
        with contextlib.suppress(ZnDrawError):
            await service.delete_room(job.the_caller(), job.room)


async def _import(job: Job, service: RoomService, board: Board, parse: Parse,
                  width: int, lease: Lease) -> None:
    caller = job.the_caller()
    planner = Planner(job.format in SPLIT_BY_BYTES)
    pending: deque[tuple[Piece, asyncio.Future[Parsed]]] = deque()
    lines = 0  # lines of the pieces committed
    base = (await service.room_info(caller, job.room)).order_version
    last, heard = None, time.monotonic()  # the upload's record, and when it last changed
    try:
        while True:
            if lease.lost:
                raise Ended
            upload = await board.registry.upload(job.id)
            if upload.failure is not None:
                job.state, job.error = "failed", job_error(upload.failure)
                return
            if upload != last:
                last, heard = upload, time.monotonic()
            elif (limit := upload.stall_limit) and time.monotonic() - heard > limit:
                job.state, job.error = "failed", upload_stopped(limit)  # its server stopped
                return
            if upload.complete:
                job.bytes_total = upload.received
            while len(pending) < width and (
                    piece := planner.next(upload.received, upload.complete)) is not None:
                pending.append((piece, asyncio.ensure_future(
                    parse(piece, upload.received, upload.complete))))
            if not pending:
                if planner.finished(upload.received, upload.complete):
                    job.state, job.bytes_done = "done", job.bytes_total
                    return
                # the upload is behind the parsing: wait to hear of more (every change of
                # the upload's record wakes this; the timeout: a safety net, and how soon a
                # receiving server that stopped renewing the record is noticed)
                await board.registry.wait_upload(
                    job.id, upload, min(UPLOAD_RECHECK, upload.renew_every or UPLOAD_RECHECK))
                continue
            piece, future = pending.popleft()
            parsed = await future
            if parsed.retry:  # its end lay past what had arrived: again, from it
                _cancel(pending)
                planner.again(piece)
                continue
            planner.observe(parsed)
            if lease.lost:
                raise Ended
            if await board.registry.cancel_requested(job.id):
                job.state = "cancelled"
                return
            if parsed.batch is not None:
                base = await _commit(service, caller, job.room, parsed.batch, base)
            if parsed.error is not None:
                error = dict(parsed.error)
                if error["frame"] is not None:
                    error["frame"] += job.frames_done
                if error["line"] is not None:
                    error["line"] += lines
                job.state, job.error = "failed", error
            job.frames_done += parsed.frames
            lines += parsed.lines
            if planner.by_bytes:
                job.bytes_done = parsed.stop
            if job.error is not None:
                return
            first = job.frames_done == parsed.frames  # the first batch is told at once
            if not await board.save(job, progress=not first):
                raise Ended
    finally:
        _cancel(pending)


def _cancel(pending: deque[tuple[Piece, asyncio.Future[Parsed]]]) -> None:
    while pending:
        pending.popleft()[1].cancel()


def discard(path: str) -> None:
    """Remove an upload's spool file (gone already: fine)."""
    Path(path).unlink(missing_ok=True)


async def _commit(service: RoomService, caller: Caller, room: str, batch: FrameBatch,
                  base: int) -> int:
    """Append ``batch`` to ``room`` (based on order version ``base``, re-read when another
    writer changed the order meanwhile); the room's new order version."""
    for _ in range(10):
        try:
            commit = await service.insert(caller, room, batch, index=None, order_base=base)
        except Conflict:
            base = (await service.room_info(caller, room)).order_version
            continue
        return commit.order_version
    raise Conflict(f"room {room} keeps changing its frame order: the import could not append")
