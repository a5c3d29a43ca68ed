"""A server process's jobs: starting imports, finding them for a caller, waiting for and
cancelling them, and failing those whose worker stopped (:meth:`Jobs.sweep`)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import tempfile
from collections.abc import Callable
from typing import IO

from ..caller import Caller
from ..errors import Forbidden, NotFound, Unavailable, ZnDrawError
from ..policy import Action
from ..room_service import RoomService
from ..settings import Settings
from ..state.base import Store, Subscription
from .model import Job, Upload, job_error, not_taken, worker_stopped
from .registry import open_registry
from .runner import JOB_EVENT, Board, conclude, discard
from .upload import UploadFeed

log = logging.getLogger(__name__)

CANCEL_WAIT = 10.0  # seconds a cancel waits for the job to stop
MAX_WAIT = 60.0  # seconds GET jobs/<id>?wait= may wait, at most
WAIT_POLL = 0.05  # seconds between looks at a job whose room's events ended (see wait)
QUIET = 1.0  # seconds without an event after which a wait looks whether the room still is
MAX_SWEEP_INTERVAL = 5.0  # seconds between looks for lapsed leases, at most
LAPSED = ("it stopped renewing the job's lease: killed, or its machine or its connection "
          "to Redis lost")


class Jobs:
    """A server process's jobs: starting imports, looking them up for a caller, cancelling."""

    def __init__(self, settings: Settings, service: Callable[[], RoomService]) -> None:
        from .engines import CeleryEngine, PoolEngine

        self._service = service
        self.registry = open_registry(settings.redis_url, settings.redis_prefix)
        self.board = Board(self.registry, lambda: service().store)
        self.engine = (CeleryEngine(settings) if settings.workers == "celery"
                       else PoolEngine(settings.import_processes, service, self.board,
                                       settings.job_ttl))
        self.sweep_interval = min(settings.job_ttl / 4, MAX_SWEEP_INTERVAL)
        self.renew_uploads_every = settings.job_ttl / 3  # see Upload.renewed
        # a job queued for Celery holds a lease this long until a worker takes it (0: none)
        self.queue_timeout = settings.job_queue_timeout if settings.workers == "celery" else 0
        self.spool = settings.storage_path / "uploads"
        if not settings.redis_url:  # one process owns this storage: earlier uploads are dead
            for left in self.spool.glob("upload-*"):
                left.unlink(missing_ok=True)
        # ase's format table, imported now in a thread: the first upload need not wait for it
        asyncio.get_running_loop().run_in_executor(None, importlib.import_module,
                                                   "ase.io.formats")

    def spool_file(self) -> tempfile._TemporaryFileWrapper:
        """A new file for an upload's body, under the storage path (shared with workers)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self.spool, prefix="upload-", delete=False)

    async def start_import(self, caller: Caller, room: str, name: str, fmt: str,
                           spool: IO[bytes], size: int, created_room: bool) -> UploadFeed:
        """Queue the import into ``room`` of the file arriving in ``spool`` (``size`` bytes
        if known, else 0): it starts with the first bytes; the feed takes the rest."""
        job = Job(room=room, user=caller.user, name=name, format=fmt, bytes_total=size,
                  path=spool.name, caller=Job.caller_record(caller), created_room=created_room)
        await self.registry.set_upload(job.id, Upload(renew_every=self.renew_uploads_every))
        await self.board.save(job)
        if self.queue_timeout:  # until a worker takes the job and holds its lease itself
            await self.registry.hold(job.id, self.queue_timeout)
        try:
            await self.engine.submit(job)
        except Exception as error:
            spool.close()
            discard(spool.name)
            job.state, job.error = "failed", job_error(f"the job could not be queued: {error}")
            await self.board.save(job)
            raise Unavailable(f"the import could not be queued: {error}") from error
        return UploadFeed(self.registry, job.id, spool, self.renew_uploads_every)

    async def _may_see(self, caller: Caller, job: Job) -> bool:
        if caller.admin or job.user == caller.user:
            return True
        try:
            await self._service().room_info(caller, job.room)
        except ZnDrawError:
            return False
        return True

    async def get(self, caller: Caller, job_id: str) -> Job:
        """Job ``job_id``, if ``caller`` may see it (their own, or of a room they read)."""
        job = await self.registry.get(job_id)
        if job is None or not await self._may_see(caller, job):
            raise NotFound(f"no job {job_id!r}")
        return job

    async def visible(self, caller: Caller, room: str | None = None) -> list[Job]:
        """The recent jobs ``caller`` may see, newest first (of ``room`` only, if given)."""
        jobs = [job for job in await self.registry.recent() if room is None or job.room == room]
        readable: dict[str, bool] = {}
        shown = []
        for job in jobs:
            if job.room not in readable:
                readable[job.room] = await self._may_see(caller, job)
            if readable[job.room] or job.user == caller.user:
                shown.append(job)
        return shown

    async def cancel(self, caller: Caller, job_id: str) -> Job:
        """Cancel job ``job_id`` (its user, an admin of its room or a server admin may) and
        wait for it to stop; the frames it committed stay."""
        job = await self.get(caller, job_id)
        if job.user != caller.user and not caller.admin:
            try:
                await self._service().policy.check(caller, Action.ADMIN, job.room)
            except ZnDrawError:
                raise Forbidden(f"job {job_id} is {job.user}'s: only they or an admin of "
                                f"room {job.room} may cancel it") from None
        if job.final:
            return job
        await self.registry.request_cancel(job_id)
        if job.state == "queued":  # the engine, once it gets to it, only cleans up
            job.state = "cancelled"
            await self.board.save(job)
            return job
        return await self.wait(caller, job_id, CANCEL_WAIT)

    async def wait(self, caller: Caller, job_id: str, timeout: float) -> Job:
        """Job ``job_id`` once it has ended, or as it is after ``timeout`` seconds: woken by
        the job's events in its room (every change of a job is one, from any process)."""
        job = await self.get(caller, job_id)
        if job.final or timeout <= 0:
            return job
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        store = self._service().store
        subscription = await store.subscribe(job.room)
        try:
            job = await self.registry.get(job_id) or job  # subscribed: no end is missed now
            # Whether the room's events still come (None: not known). A deleted room has no
            # more events, and a job ending after its room was deleted can announce nothing:
            # then look at the record every WAIT_POLL. A room deleted before the subscription
            # announced that to nobody: looked at once nothing came for QUIET seconds.
            told: bool | None = None
            while not job.final and (left := deadline - loop.time()) > 0:
                pause = {None: QUIET, True: left, False: WAIT_POLL}[told]
                event = await _next_event(subscription, min(left, pause))
                kind = None if event is None else event.get("type")
                if kind == "room_deleted":
                    told = False
                elif event is None and told is None:
                    told = await _exists(store, job.room)
                if (kind in ("resync", "room_deleted") or (event is None and told is False)
                        or (kind == JOB_EVENT and event["job"]["id"] == job_id)):
                    job = await self.registry.get(job_id) or job
        finally:
            await subscription.aclose()
        return job

    async def sweep(self) -> None:
        """Fail the jobs whose lease lapsed (their worker stopped: see
        :class:`~.runner.Lease`; or, still queued, no worker took them within
        ``job_queue_timeout``), as their worker would have: the error recorded and told
        as a ``job`` event, the spooled file removed, a room the job made and never
        committed to deleted. Each lapsed job is swept by one process."""
        for job_id in await self.registry.lapsed():
            job = await self.registry.get(job_id)
            if job is None or job.final:
                continue
            if job.state == "queued":
                log.warning("job %s of room %s: no worker took it within %g s; failed",
                            job_id, job.room, self.queue_timeout)
                job.state, job.error = "failed", not_taken(self.queue_timeout)
            else:
                log.warning("job %s of room %s: its worker stopped renewing its lease; "
                            "failed", job_id, job.room)
                job.state, job.error = "failed", worker_stopped(LAPSED)
            discard(job.path)
            await conclude(job, self._service(), self.board)

    def warm(self) -> None:
        """An upload is coming: get the engine ready."""
        self.engine.warm()

    async def close(self) -> None:
        await self.engine.close()
        await self.registry.close()


async def _next_event(subscription: Subscription, timeout: float) -> dict | None:
    """The next event of ``subscription``, or None after ``timeout`` seconds."""
    with contextlib.suppress(TimeoutError):
        return await asyncio.wait_for(anext(subscription), timeout)
    return None


async def _exists(store: Store, room: str) -> bool:
    try:
        await store.room_info(room)
    except NotFound:
        return False
    return True
