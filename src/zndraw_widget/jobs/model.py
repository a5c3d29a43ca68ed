"""A job as the API shows it (``docs/protocol.md``, "Background jobs"), and what the engine
that runs it needs besides (the spooled file, the caller, whether the job made its room)."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..caller import Caller

State = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})


@dataclass
class Job:
    """One import of an uploaded file into ``room`` by ``user``."""

    room: str
    user: str
    name: str
    format: str | None
    bytes_total: int
    kind: str = "import"
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    state: State = "queued"
    bytes_done: int = 0
    frames_done: int = 0
    error: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    # what the engine needs; not part of the API's JSON
    path: str = ""
    caller: dict[str, Any] = field(default_factory=dict)
    created_room: bool = False

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def to_json(self) -> dict[str, Any]:
        """The job as ``GET jobs/<id>`` answers it."""
        return {name: getattr(self, name) for name in PUBLIC}

    def to_record(self) -> dict[str, Any]:
        """Everything, for the job registry."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Job:
        return cls(**record)

    def the_caller(self) -> Caller:
        """The uploading user's caller, as every commit of the job is made by."""
        return Caller(self.caller["user"], frozenset(self.caller["groups"]),
                      self.caller["session"], self.caller["admin"])

    @staticmethod
    def caller_record(caller: Caller) -> dict[str, Any]:
        return {"user": caller.user, "groups": sorted(caller.groups),
                "session": caller.session, "admin": caller.admin}


STALLED_RENEWALS = 3  # an upload's record unchanged for this many renewals: its server stopped


@dataclass
class Upload:
    """How much of a job's file has arrived (the job may start before the upload ends):
    ``received`` bytes, written to its file; ``complete`` once the body ended; ``failure``
    saying why it will not (the connection broke, the file is over the limit);
    ``renewed``: how often the server receiving the body said that it still does, which it
    says every ``renew_every`` seconds (its ``job_ttl / 3``), bytes or not: a job tells a
    server that stopped (no change for :data:`STALLED_RENEWALS` of that) from a client that
    pauses."""

    received: int = 0
    complete: bool = False
    failure: str | None = None
    renewed: int = 0
    renew_every: float = 0.0  # 0: not renewed

    @property
    def stall_limit(self) -> float | None:
        """Seconds without a change after which the receiving server stopped (None: it
        ended, or does not say)."""
        if self.complete or self.failure is not None or not self.renew_every:
            return None
        return STALLED_RENEWALS * self.renew_every


PUBLIC = ("id", "kind", "room", "user", "state", "name", "format", "bytes_total",
          "bytes_done", "frames_done", "error", "created", "updated")


def job_error(message: str, frame: int | None = None, line: int | None = None
              ) -> dict[str, Any]:
    """A job's ``error``: what went wrong, and where in the file when known."""
    return {"message": message, "frame": frame, "line": line}


def not_taken(seconds: float) -> dict[str, Any]:
    """The ``error`` of a job that no Celery worker took within ``seconds``."""
    return job_error(f"no worker took this job within {seconds:g} s: start one with "
                     f"'zndraw-widget worker' (give it the servers' --storage and --redis-url), "
                     f"or more if they are all busy, then upload the file again")


def upload_stopped(seconds: float) -> dict[str, Any]:
    """The ``error`` of a job whose upload's record did not change for ``seconds``."""
    return job_error(f"the upload stopped arriving: the server receiving it said nothing for "
                     f"{seconds:g} s (it stopped, or lost its connection to Redis); upload the "
                     f"file again")


def worker_stopped(why: str) -> dict[str, Any]:
    """The ``error`` of a job whose worker stopped (``why``: how that was noticed)."""
    return job_error(f"the worker running this job stopped ({why}); upload the file again")
