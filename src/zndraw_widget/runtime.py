"""What one server process runs: the room service, the event hub and the periodic tasks,
opened together and stopped in order (connections, tasks, hub, store)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from .deployment import check_deployment
from .errors import Unavailable
from .hub import SWEEP_INTERVAL, Hub
from .jobs import Jobs
from .limits import Limits
from .metrics import Metrics
from .room_service import RoomService
from .settings import Settings
from .state import open_store
from .state.base import HEARTBEAT_TTL
from .storage import ZarrProvider

log = logging.getLogger(__name__)

EXPIRY_INTERVAL = 60.0  # seconds between sweeps for expired ephemeral rooms (at most)
HEARTBEAT_INTERVAL = HEARTBEAT_TTL / 5  # seconds between a process's heartbeats


def open_service(settings: Settings, metrics: Metrics | None = None) -> RoomService:
    """The room service of ``settings``' deployment (a server process's, or a worker's)."""
    store = open_store(
        settings.redis_url,
        None if settings.redis_url else str(settings.storage_path / "state"),
        redis_prefix=settings.redis_prefix,
        history_depth=settings.history_depth,
    )
    return RoomService(store, ZarrProvider(settings.storage_path / "frames"),
                       cache_bytes=settings.cache_mb << 20, lease_ttl=settings.lease_ttl,
                       metrics=metrics, ephemeral_ttl=settings.ephemeral_ttl,
                       limits=Limits.from_settings(settings))


def new_process_id() -> str:
    """A server process's id in the shared state: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


class Runtime:
    """One server process's room service, event hub, metrics and periodic tasks (its
    heartbeat; sweeping expired leases, presences and processes; deleting expired ephemeral
    rooms; reclaiming unreferenced data), opened on first use inside the running event loop,
    where a Redis client must be made."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = new_process_id()
        self.metrics = Metrics()
        self._service: RoomService | None = None
        self._hub: Hub | None = None
        self._jobs: Jobs | None = None
        self._tasks: list[asyncio.Task] = []
        self._failure: str | None = None

    def service(self) -> RoomService:
        """The room service (raises :class:`Unavailable` if :meth:`start` refused)."""
        if self._failure is not None:
            raise Unavailable(self._failure)
        if self._service is None:
            self._open()
        return self._service

    def hub(self) -> Hub:
        self.service()
        return self._hub

    def jobs(self) -> Jobs:
        """The background jobs (see :mod:`zndraw_widget.jobs`)."""
        self.service()
        return self._jobs

    def _open(self) -> None:
        settings = self.settings
        self._service = open_service(settings, self.metrics)
        store = self._service.store
        self._hub = Hub(store, self.process, self.metrics)
        self._jobs = Jobs(settings, self.service)
        periodic = [(HEARTBEAT_INTERVAL, self._heartbeat, "renewing the heartbeat"),
                    (SWEEP_INTERVAL, self._hub.sweep, "sweeping expired leases"),
                    (min(EXPIRY_INTERVAL, max(settings.ephemeral_ttl / 4, SWEEP_INTERVAL)),
                     self._expire_rooms, "deleting expired ephemeral rooms")]
        periodic.append((self._jobs.sweep_interval, self._jobs.sweep,
                         "failing jobs whose worker stopped"))
        if settings.reclaim_interval > 0:
            periodic.append((settings.reclaim_interval, self._reclaim,
                             "reclaiming unreferenced data"))
        self._tasks = [asyncio.get_running_loop().create_task(_every(*task))
                       for task in periodic]

    async def start(self) -> None:
        """Open the service now and check that the Redis state belongs with the storage
        path. If that fails (e.g. :class:`~.deployment.DeploymentMismatch`, an unreachable
        Redis, a storage path in use), stop and raise a ``RuntimeError`` saying why; later
        calls of :meth:`service` then raise :class:`Unavailable` with the same message."""
        try:
            await check_deployment(self.service().store, self.settings)
            await self._heartbeat()
        except Exception as error:
            await self.stop()
            self._failure = str(error) if isinstance(error, RuntimeError) else (
                f"cannot open the rooms' state: {error}")
            if isinstance(error, RuntimeError):
                raise
            raise RuntimeError(self._failure) from error

    async def _heartbeat(self) -> None:
        await self._service.store.heartbeat(self.process)

    async def _expire_rooms(self) -> None:
        deleted = await self._service.expire_rooms()
        if deleted:
            log.info("deleted %d expired ephemeral rooms: %s", len(deleted), ", ".join(deleted))

    async def _reclaim(self) -> None:
        count = await self._service.reclaim(min_age=self.settings.reclaim_interval)
        if count:
            log.info("reclaimed %d unreferenced segments", count)

    async def stop(self) -> None:
        """Shut the control connections down (releasing their leases and presence), then
        stop the periodic tasks, the hub and the store."""
        if self._service is None:
            return
        await self._hub.close_connections()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._jobs.close()
        await self._hub.close()
        await self._service.store.close()
        self._service, self._hub, self._jobs, self._tasks = None, None, None, []


async def _every(interval: float, action: Callable[[], Awaitable[object]], what: str) -> None:
    """Run ``action`` every ``interval`` seconds until cancelled; a failure is logged and
    the next run tries again (a transient store error passes)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await action()
        except Exception as error:
            log.warning("%s failed: %s", what, error)
