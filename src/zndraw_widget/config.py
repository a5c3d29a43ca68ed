"""Settings shared by the Jupyter extension and the standalone server."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .hub import Hub
from .rooms import RoomService
from .state import open_store
from .storage import ZarrProvider

log = logging.getLogger(__name__)


@dataclass
class Settings:
    """Where rooms live and how big requests may be."""

    storage_path: Path
    redis_url: str | None = None
    redis_prefix: str = "zdw:"
    max_upload_mb: float = 500.0
    history_depth: int = 100
    cache_mb: int = 256
    lease_ttl: float = 10.0
    reclaim_interval: float = 600.0  # seconds between sweeps for unreferenced data; 0: never

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the ``ZNDRAW_*`` environment variables, then ``overrides``."""
        env = os.environ
        values: dict[str, object] = {
            "storage_path": Path(env.get("ZNDRAW_STORAGE_PATH", default_storage_path())),
            "redis_url": env.get("ZNDRAW_REDIS_URL") or None,
            "redis_prefix": env.get("ZNDRAW_REDIS_PREFIX", "zdw:"),
            "max_upload_mb": float(env.get("ZNDRAW_MAX_UPLOAD_MB", 500)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["storage_path"] = Path(values["storage_path"]).expanduser()
        return cls(**values)

    def create_service(self) -> RoomService:
        """The room service on these settings (call inside the running event loop)."""
        store = open_store(
            self.redis_url,
            None if self.redis_url else str(self.storage_path / "state"),
            redis_prefix=self.redis_prefix,
            history_depth=self.history_depth,
        )
        storage = ZarrProvider(self.storage_path / "frames")
        return RoomService(store, storage, cache_bytes=self.cache_mb << 20,
                           lease_ttl=self.lease_ttl)


class Runtime:
    """One server process's room service and event hub, created on first use (inside the
    running event loop, where a Redis client must be made)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._service: RoomService | None = None
        self._hub: Hub | None = None
        self._reclaimer: asyncio.Task | None = None

    def service(self) -> RoomService:
        if self._service is None:
            self._service = self.settings.create_service()
            if self.settings.reclaim_interval > 0:
                self._reclaimer = asyncio.get_running_loop().create_task(self._reclaim())
        return self._service

    async def _reclaim(self) -> None:
        """Reclaim superseded data now and then (a maintenance timer)."""
        while True:
            await asyncio.sleep(self.settings.reclaim_interval)
            try:
                count = await self._service.reclaim(min_age=self.settings.reclaim_interval)
                if count:
                    log.info("reclaimed %d unreferenced segments", count)
            except Exception:  # keep serving; try again next time
                log.exception("reclaiming unreferenced data failed")

    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = Hub(self.service().store)
        return self._hub

    async def close(self) -> None:
        if self._reclaimer is not None:
            self._reclaimer.cancel()
        if self._hub is not None:
            await self._hub.close()
        if self._service is not None:
            await self._service.store.close()


def default_storage_path() -> Path:
    """``$XDG_DATA_HOME/zndraw-widget`` (``~/.local/share/zndraw-widget``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "zndraw-widget"
