"""Where jobs are kept: in the server process (:class:`MemoryJobs`, the embedded store's
one process) or in Redis (:class:`RedisJobs`), where every replica and worker sees them."""

from __future__ import annotations

import json
import time
from typing import Protocol

from .model import Job, Upload

KEEP_SECONDS = 7 * 24 * 3600  # a job's record outlives its last change this long
LISTED = 1000  # the most recent jobs a listing looks at


class JobRegistry(Protocol):
    async def put(self, job: Job) -> None:
        """Record ``job`` as it is now."""

    async def get(self, job_id: str) -> Job | None: ...

    async def recent(self) -> list[Job]:
        """The most recent jobs (up to :data:`LISTED`), newest first."""

    async def request_cancel(self, job_id: str) -> None: ...

    async def cancel_requested(self, job_id: str) -> bool: ...

    async def set_upload(self, job_id: str, upload: Upload) -> None:
        """Record how much of the job's file has arrived (only its handler writes this)."""

    async def upload(self, job_id: str) -> Upload: ...

    async def close(self) -> None: ...


class MemoryJobs:
    """Jobs of one server process (the embedded store's deployment)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._cancelled: set[str] = set()
        self._uploads: dict[str, Upload] = {}

    async def put(self, job: Job) -> None:
        self._jobs[job.id] = Job.from_record(job.to_record())  # a copy: callers go on changing theirs
        cutoff = time.time() - KEEP_SECONDS
        for old in [j.id for j in self._jobs.values() if j.final and j.updated < cutoff]:
            del self._jobs[old]
            self._cancelled.discard(old)
            self._uploads.pop(old, None)

    async def get(self, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        return None if job is None else Job.from_record(job.to_record())

    async def recent(self) -> list[Job]:
        jobs = sorted(self._jobs.values(), key=lambda job: job.created, reverse=True)
        return [Job.from_record(job.to_record()) for job in jobs[:LISTED]]

    async def request_cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)

    async def cancel_requested(self, job_id: str) -> bool:
        return job_id in self._cancelled

    async def set_upload(self, job_id: str, upload: Upload) -> None:
        self._uploads[job_id] = Upload(**vars(upload))

    async def upload(self, job_id: str) -> Upload:
        return Upload(**vars(self._uploads.get(job_id, Upload())))

    async def close(self) -> None:
        return None


class RedisJobs:
    """Jobs in Redis under ``<prefix>job:<id>`` (JSON, expiring :data:`KEEP_SECONDS` after
    its last change), ``<prefix>job:<id>:cancel``, ``<prefix>job:<id>:upload`` and the index
    ``<prefix>jobs`` (a sorted set by creation time)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio

        self.prefix = prefix
        self._redis = redis.asyncio.from_url(url)

    def _key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    async def put(self, job: Job) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(job.id), json.dumps(job.to_record()), ex=KEEP_SECONDS)
            pipe.zadd(f"{self.prefix}jobs", {job.id: job.created})
            pipe.zremrangebyscore(f"{self.prefix}jobs", "-inf", time.time() - KEEP_SECONDS)
            await pipe.execute()

    async def get(self, job_id: str) -> Job | None:
        raw = await self._redis.get(self._key(job_id))
        return None if raw is None else Job.from_record(json.loads(raw))

    async def recent(self) -> list[Job]:
        ids = await self._redis.zrevrange(f"{self.prefix}jobs", 0, LISTED - 1)
        if not ids:
            return []
        raws = await self._redis.mget([self._key(i.decode()) for i in ids])
        return [Job.from_record(json.loads(raw)) for raw in raws if raw is not None]

    async def request_cancel(self, job_id: str) -> None:
        await self._redis.set(self._key(job_id) + ":cancel", 1, ex=KEEP_SECONDS)

    async def cancel_requested(self, job_id: str) -> bool:
        return bool(await self._redis.exists(self._key(job_id) + ":cancel"))

    async def set_upload(self, job_id: str, upload: Upload) -> None:
        await self._redis.set(self._key(job_id) + ":upload", json.dumps(vars(upload)),
                              ex=KEEP_SECONDS)

    async def upload(self, job_id: str) -> Upload:
        raw = await self._redis.get(self._key(job_id) + ":upload")
        return Upload() if raw is None else Upload(**json.loads(raw))

    async def close(self) -> None:
        await self._redis.aclose()


def open_registry(redis_url: str | None, prefix: str) -> JobRegistry:
    """The registry of a deployment: Redis when it has one, else this process's memory."""
    return RedisJobs(redis_url, prefix) if redis_url else MemoryJobs()
