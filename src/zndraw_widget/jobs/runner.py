"""The one job code both engines run: parse an uploaded file piece by piece (in parse
processes, several pieces at once), commit each piece's frames in order through the room
service as the uploading user, record progress and tell the room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from ..caller import Caller
from ..errors import Conflict, ZnDrawError
from ..frames import FrameBatch
from ..rooms import RoomService
from ..state.base import Store
from .model import Job, job_error
from .parse import SPLIT_BY_BYTES, Parsed, Piece
from .registry import JobRegistry

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.1  # seconds between a job's progress records and events, at least
FIRST_PIECE_BYTES = 64 << 10  # small, so that the first frames show at once
PIECE_BYTES = 8 << 20  # then pieces grow (x4) up to this
MAX_PIECE_FRAMES = 10_000  # frames per piece of a format split by frames, at most
JOB_EVENT = "job"

Parse = Callable[[Piece], Awaitable[Parsed]]


class Board:
    """Records each change of a job in the registry and tells its room (a ``job`` event
    through the store, so every process's connections hear it); progress at most every
    :data:`PROGRESS_INTERVAL` seconds per job."""

    def __init__(self, registry: JobRegistry, store: Callable[[], Store]) -> None:
        self.registry = registry
        self._store = store
        self._told: dict[str, float] = {}

    async def save(self, job: Job, progress: bool = False) -> None:
        now = time.time()
        if progress and now - self._told.get(job.id, 0.0) < PROGRESS_INTERVAL:
            return
        self._told[job.id] = now
        if job.final:
            self._told.pop(job.id, None)
        job.updated = now
        await self.registry.put(job)
        with contextlib.suppress(ZnDrawError):  # the room is gone: nobody to tell
            await self._store().publish(job.room, {"type": JOB_EVENT, "job": job.to_json()})


class Planner:
    """The pieces of a file, each planned once the results before it tell enough: bytes
    pieces growing from :data:`FIRST_PIECE_BYTES` to :data:`PIECE_BYTES`, or frame windows
    of about :data:`PIECE_BYTES` of parsed data each (the first: one frame)."""

    def __init__(self, by_bytes: bool, size: int) -> None:
        self.by_bytes, self.size = by_bytes, size
        self._start, self._span, self._ended = 0, FIRST_PIECE_BYTES if by_bytes else 1, False

    def next(self) -> Piece | None:
        if self._ended or (self.by_bytes and self._start >= self.size):
            return None
        stop = min(self._start + self._span, self.size) if self.by_bytes else (
            self._start + self._span)
        piece = Piece(self.by_bytes, self._start, stop)
        self._start = stop
        if self.by_bytes:
            self._span = min(self._span * 4, PIECE_BYTES)
        return piece

    def observe(self, parsed: Parsed) -> None:
        if parsed.end or parsed.error is not None:
            self._ended = True
        elif not self.by_bytes and parsed.batch is not None:
            per_frame = max(parsed.batch.nbytes // parsed.frames, 1)
            self._span = max(1, min(PIECE_BYTES // per_frame, MAX_PIECE_FRAMES))


async def run_import(job: Job, service: RoomService, board: Board, parse: Parse,
                     width: int) -> Job:
    """Run import ``job``: up to ``width`` pieces parse at once (``parse`` runs one in a
    parse process), committed in order. Ends done, failed (the frames before the failure
    stay) or cancelled (the frames committed stay); a room the job created and never
    committed to is deleted again. The spooled file is removed."""
    try:
        if await board.registry.cancel_requested(job.id):
            job.state = "cancelled"
        else:
            job.state = "running"
            await board.save(job)
            await _import(job, service, board, parse, width)
    except ZnDrawError as error:
        job.state, job.error = "failed", job_error(f"the frames could not be committed: {error}")
    except Exception as error:  # noqa: BLE001 (a job reports its failure, never raises)
        log.exception("import job %s failed", job.id)
        job.state, job.error = "failed", job_error(f"{type(error).__name__}: {error}")
    finally:
        _discard(job.path)
    await board.save(job)
    if job.state != "done" and job.created_room and job.frames_done == 0:
        with contextlib.suppress(ZnDrawError):
            await service.delete_room(job.the_caller(), job.room)
    return job


async def _import(job: Job, service: RoomService, board: Board, parse: Parse,
                  width: int) -> None:
    caller = job.the_caller()
    planner = Planner(job.format in SPLIT_BY_BYTES, job.bytes_total)
    pending: deque[asyncio.Future] = deque()
    lines = 0  # lines of the pieces committed
    base = (await service.room_info(caller, job.room)).order_version
    try:
        while True:
            while len(pending) < width and (piece := planner.next()) is not None:
                pending.append(asyncio.ensure_future(parse(piece)))
            if not pending:
                job.state, job.bytes_done = "done", job.bytes_total
                return
            parsed = await pending.popleft()
            planner.observe(parsed)
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
            await board.save(job, progress=job.frames_done > parsed.frames)  # the first: now
    finally:
        for future in pending:
            future.cancel()


def _discard(path: str) -> None:
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
