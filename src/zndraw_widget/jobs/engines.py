"""The two engines that run jobs, with the same job code (:func:`.runner.run_import`).

:class:`PoolEngine` (the default) runs the job in this server's event loop; the pieces of
the file parse in a process pool and come back as frame batches, which the server commits.
The children parse only: the embedded store belongs to one process (its lock file), so
committing here is the one way that works for both stores, and each commit goes through
this server's room service (access checks, limits, events) like any other write.

:class:`CeleryEngine` (``--workers celery``) queues the job for a Celery worker
(``zndraw-widget worker``, :mod:`.worker`), which runs the same job code against the shared
Redis state and storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..room_service import RoomService, in_thread
from ..settings import Settings
from .model import Job
from .parse import Parsed, Piece, parse_piece
from .runner import Board, run_import

PRELOAD = ["zndraw_widget.jobs.parse", "ase.io", "ase.io.extxyz"]


def parse_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of ``processes`` parse processes, forked from a server process that imported
    ase already (so a new one is ready in milliseconds, and never inherits the server's
    threads)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(processes, mp_context=context)


def parser_for(pool: Callable[[], ProcessPoolExecutor], job: Job
               ) -> Callable[[Piece], Awaitable[Parsed]]:
    """Parse a piece of ``job``'s file in ``pool()`` (submitted from a thread: a submit may
    start a parse process, which waits for the fork server to have imported ase)."""
    async def parse(piece: Piece, arrived: int, complete: bool) -> Parsed:
        future = await in_thread(pool().submit, parse_piece, job.path, job.format, piece,
                                 arrived, complete)
        return await asyncio.wrap_future(future)
    return parse


def _ready() -> None:
    """A parse process's first task: it exists (and imported ase)."""


def _start(pool: ProcessPoolExecutor, processes: int) -> None:
    for _ in range(processes):
        pool.submit(_ready)


class PoolEngine:
    """Jobs run in this server process; files parse in its process pool."""

    def __init__(self, processes: int, service: Callable[[], RoomService], board: Board,
                 lease_ttl: float) -> None:
        self.processes, self.lease_ttl = processes, lease_ttl
        self._service, self._board = service, board
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: set[asyncio.Task] = set()

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = parse_pool(self.processes)
        return self._pool

    def warm(self) -> None:
        """Start the parse processes now, in a thread (while an upload streams in)."""
        if self._pool is None:
            pool = self.pool()
            asyncio.get_running_loop().run_in_executor(None, _start, pool, self.processes)

    async def submit(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job) -> None:
        await run_import(job, self._service(), self._board, parser_for(self.pool, job),
                         self.processes + 1, self.lease_ttl)
        if self._pool is not None and _broken(self._pool):  # a parse process died: a new pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await in_thread(functools.partial(pool.shutdown, wait=True, cancel_futures=True))


def _broken(pool: ProcessPoolExecutor) -> bool:
    try:
        pool.submit(_ready).cancel()
    except BrokenProcessPool:
        return True
    return False


class CeleryEngine:
    """Jobs go to Celery workers through Redis (the broker)."""

    def __init__(self, settings: Settings) -> None:
        from .worker import celery_app

        self.app = celery_app(settings)

    def warm(self) -> None:
        return None

    async def submit(self, job: Job) -> None:
        from .worker import TASK

        await in_thread(self.app.send_task, TASK, [job.id])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await in_thread(self.app.close)
