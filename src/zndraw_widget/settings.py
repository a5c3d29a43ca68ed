"""Every setting, declared once: its type, default, environment variable and help.

The Jupyter extension's traitlets and the ``zndraw-widget serve`` flags are generated from
:data:`OPTIONS`; both resolve a value the same way: given explicitly (a trait in a Jupyter
config, a flag) > its ``ZNDRAW_*`` environment variable > the default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def default_storage_path() -> Path:
    """``$XDG_DATA_HOME/zndraw-widget`` (``~/.local/share/zndraw-widget``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "zndraw-widget"


@dataclass(frozen=True)
class Option:
    """One setting. ``type`` parses its environment variable (and flag); a ``repeatable``
    option is a list: its flag repeats, its variable is comma-separated. ``serve_only``
    options belong to the standalone server (Jupyter has its own host, port, token...)."""

    name: str
    type: Callable[[str], Any]
    default: Any
    env: str
    help: str
    serve_only: bool = False
    repeatable: bool = False
    flag_name: str | None = None
    shown_default: str | None = None  # how the default reads in help, when not its repr

    @property
    def flag(self) -> str:
        return self.flag_name or "--" + self.name.replace("_", "-")

    def parse(self, text: str) -> Any:
        if self.repeatable:
            return [self.type(part.strip()) for part in text.split(",") if part.strip()]
        return self.type(text)

    def describe_default(self) -> str:
        if self.shown_default:
            return self.shown_default
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)


OPTIONS: tuple[Option, ...] = (
    Option("host", str, "127.0.0.1", "ZNDRAW_HOST", "address to bind",
           serve_only=True, shown_default="127.0.0.1, loopback only"),
    Option("port", int, 8765, "ZNDRAW_PORT", "port to listen on (0 picks a free one)",
           serve_only=True),
    Option("token", str, None, "ZNDRAW_TOKEN", "access token", serve_only=True,
           shown_default="generated and printed"),
    Option("base_url", str, "/", "ZNDRAW_BASE_URL",
           "URL prefix, e.g. /services/zndraw/ under JupyterHub", serve_only=True),
    Option("allow_origins", str, (), "ZNDRAW_ALLOW_ORIGINS",
           "let pages of this origin (e.g. http://127.0.0.1:8888, a JupyterLab showing "
           "Viewer(url=...)) call this server", serve_only=True, repeatable=True,
           flag_name="--allow-origin", shown_default="none: same origin only"),
    Option("users_file", str, None, "ZNDRAW_USERS_FILE",
           "users file: each user logs in with their own token (see 'zndraw-widget user')",
           serve_only=True, flag_name="--users", shown_default="none: --token's one admin user"),
    Option("storage_path", str, None, "ZNDRAW_STORAGE_PATH",
           "directory holding frame data (and, without Redis, the room state); every "
           "process sharing a Redis must use the same one",
           flag_name="--storage",
           shown_default="~/.local/share/zndraw-widget; in Jupyter <jupyter data dir>/zndraw-widget"),
    Option("redis_url", str, None, "ZNDRAW_REDIS_URL",
           "Redis URL (redis://, rediss://, unix://) shared by several server processes",
           shown_default="none: the embedded store, persisted under the storage path"),
    Option("redis_prefix", str, "zdw:", "ZNDRAW_REDIS_PREFIX",
           "prefix of every Redis key: one per deployment sharing a Redis database"),
    Option("max_upload_mb", float, 500.0, "ZNDRAW_MAX_UPLOAD_MB",
           "largest request body accepted, in MB"),
    Option("max_frames_per_write", int, 100_000, "ZNDRAW_MAX_FRAMES_PER_WRITE",
           "most frames one write may carry"),
    Option("max_atom_frames_per_write", int, 50_000_000, "ZNDRAW_MAX_ATOM_FRAMES_PER_WRITE",
           "most atoms x frames one write may carry (atoms: its frames' largest per-atom axis)"),
    Option("max_response_mb", float, 256.0, "ZNDRAW_MAX_RESPONSE_MB",
           "largest read response, in MB (a larger read is refused: read fewer frames at once)"),
    Option("history_depth", int, 100, "ZNDRAW_HISTORY_DEPTH", "versions kept per frame for undo"),
    Option("cache_mb", int, 256, "ZNDRAW_CACHE_MB", "frame data cached in memory, in MB"),
    Option("lease_ttl", float, 10.0, "ZNDRAW_LEASE_TTL",
           "seconds a lease lives unless renewed"),
    Option("reclaim_interval", float, 600.0, "ZNDRAW_RECLAIM_INTERVAL",
           "seconds between sweeps that delete frame data no room refers to (0: never)"),
    Option("metrics_token", str, None, "ZNDRAW_METRICS_TOKEN",
           "token a Prometheus scraper sends (Authorization: Bearer) to GET zndraw/api/metrics",
           shown_default="none: no metrics endpoint"),
    Option("ephemeral_ttl", float, 3600.0, "ZNDRAW_EPHEMERAL_TTL",
           "seconds an ephemeral room (made by Viewer(frames)) outlives the last view or "
           "kernel that had it open"),
    Option("workers", str, "pool", "ZNDRAW_WORKERS",
           "where background jobs (file imports) run: 'pool' (processes of this server) or "
           "'celery' (workers started with 'zndraw-widget worker'; needs --redis-url)"),
    Option("import_processes", int, 2, "ZNDRAW_IMPORT_PROCESSES",
           "processes parsing uploaded files in parallel (a server's pool, or each worker's)"),
    Option("job_ttl", float, 30.0, "ZNDRAW_JOB_TTL",
           "seconds a running job's lease lasts unless its worker renews it (every third of "
           "that); once it lapses (the worker was killed or lost) a server fails the job"),
    Option("job_queue_timeout", float, 600.0, "ZNDRAW_JOB_QUEUE_TIMEOUT",
           "seconds a job queued for Celery workers waits for one to take it before a server "
           "fails it, saying that no worker did (0: it waits for ever)"),
)
WORKERS = ("pool", "celery")
SHARED_OPTIONS = tuple(option for option in OPTIONS if not option.serve_only)
SERVE_OPTIONS = tuple(option for option in OPTIONS if option.serve_only)


def resolve(options: tuple[Option, ...], given: Mapping[str, Any],
            env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Each option's value: ``given`` (None: not given) > its environment variable (empty:
    unset) > its default."""
    env = os.environ if env is None else env
    values = {}
    for option in options:
        value = given.get(option.name)
        if value is None and env.get(option.env):
            value = option.parse(env[option.env])
        values[option.name] = option.default if value is None else value
    return values


@dataclass
class Settings:
    """Where rooms live and how the room service behaves (see :data:`OPTIONS`)."""

    storage_path: Path
    redis_url: str | None = None
    redis_prefix: str = "zdw:"
    max_upload_mb: float = 500.0
    max_frames_per_write: int = 100_000
    max_atom_frames_per_write: int = 50_000_000
    max_response_mb: float = 256.0
    history_depth: int = 100
    cache_mb: int = 256
    lease_ttl: float = 10.0
    reclaim_interval: float = 600.0
    metrics_token: str | None = None
    ephemeral_ttl: float = 3600.0
    workers: str = "pool"
    import_processes: int = 2
    job_ttl: float = 30.0
    job_queue_timeout: float = 600.0

    @classmethod
    def resolve(cls, given: Mapping[str, Any] | None = None,
                default_storage: Path | None = None,
                env: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``given`` values, else ``ZNDRAW_*``, else the defaults (the
        storage path's default: ``default_storage``, else :func:`default_storage_path`)."""
        values = resolve(SHARED_OPTIONS, given or {}, env)
        path = values["storage_path"] or default_storage or default_storage_path()
        values["storage_path"] = Path(path).expanduser()
        values["redis_url"] = values["redis_url"] or None
        values["metrics_token"] = values["metrics_token"] or None
        if values["workers"] not in WORKERS:
            raise ValueError(f"workers must be one of {', '.join(WORKERS)}, not "
                             f"{values['workers']!r}")
        if values["workers"] == "celery" and not values["redis_url"]:
            raise ValueError("workers 'celery' need a Redis: give --redis-url "
                             "(ZNDRAW_REDIS_URL), the Celery broker and the jobs' state")
        if values["import_processes"] < 1:
            raise ValueError("import_processes must be at least 1")
        if not 0 < values["job_ttl"] < math.inf:  # inf: a dead worker's job never lapses
            raise ValueError(f"job_ttl must be a positive number of seconds, not "
                             f"{values['job_ttl']!r} (--job-ttl, ZNDRAW_JOB_TTL)")
        if not 0 <= values["job_queue_timeout"] < math.inf:
            raise ValueError(f"job_queue_timeout must be a number of seconds, 0 or more (0: "
                             f"never), not {values['job_queue_timeout']!r} "
                             f"(--job-queue-timeout, ZNDRAW_JOB_QUEUE_TIMEOUT)")
        return cls(**values)

