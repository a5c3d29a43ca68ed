"""Background jobs: importing uploaded trajectory files (``POST rooms/<room>/files``), with
progress as ``job`` events, in a process pool of the server or in Celery workers. See
``docs/protocol.md`` ("Background jobs") for the API and :mod:`.engines` for the engines."""

from __future__ import annotations

from .service import MAX_WAIT, Jobs

__all__ = ["MAX_WAIT", "Jobs"]
