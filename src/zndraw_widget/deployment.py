"""The check that a Redis and a storage path belong together.

Room state in Redis refers to frame data under the storage path: processes sharing a Redis
must share the storage too, or each would see rooms whose data lies elsewhere (and reclaim
would delete data it does not know of). The first use records a deployment id in the
storage directory and in Redis; a later start with a mismatch is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .settings import Settings
from .state.base import Store

ID_FILE = "deployment-id"


class DeploymentMismatch(RuntimeError):
    """The Redis state belongs with another storage path."""


def storage_deployment(path: Path) -> str:
    """The deployment id recorded under ``path``, recorded now if there is none (atomic:
    processes starting at once agree on one)."""
    path.mkdir(parents=True, exist_ok=True)
    target = path / ID_FILE
    if not target.exists():
        draft = path / f".{ID_FILE}.{uuid.uuid4().hex}"
        draft.write_text(uuid.uuid4().hex + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, target)  # fails if another process recorded one first
        draft.unlink()
    return target.read_text().strip()


async def check_deployment(store: Store, settings: Settings) -> None:
    """Record this storage's deployment id in ``store`` unless it holds one; raise
    :class:`DeploymentMismatch` if it holds another."""
    ours = storage_deployment(settings.storage_path)
    recorded = json.loads(await store.claim_deployment(
        json.dumps({"id": ours, "storage_path": str(settings.storage_path)})))
    if recorded["id"] != ours:
        raise DeploymentMismatch(
            f"the Redis at {_redacted(settings.redis_url)} holds the rooms of the storage "
            f"{recorded['storage_path']} (deployment {recorded['id']}), not of "
            f"{settings.storage_path} (deployment {ours}). Every server process sharing a "
            f"Redis must use the same storage path: set ZNDRAW_STORAGE_PATH (or --storage, "
            f"or c.ZnDrawWidget.storage_path) to the one shared by all of them, or give this "
            f"storage a Redis of its own.")


def _redacted(url: str | None) -> str:
    """``url`` without its password."""
    if not url:
        return "(none)"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
