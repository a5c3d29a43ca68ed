"""Where jobs are kept: in the server process (:class:`MemoryJobs`, the embedded store's
one process) or in Redis (:class:`RedisJobs`), where every replica and worker sees them.

A job's record ends once: a final state (done, failed, cancelled) is never overwritten, so
whoever ends a job first (its worker, a cancel, a sweep) has the last word and the others
hear that it ended (:meth:`JobRegistry.put` answers False). A running job holds a
**lease** its engine renews (:meth:`JobRegistry.hold`); one that lapsed
(:meth:`JobRegistry.lapsed`) belongs to a worker that stopped, and a server fails the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Protocol

from .model import FINAL, Job, Upload

KEEP_SECONDS = 7 * 24 * 3600  # a job's record outlives its last change this long
WAKE_SECONDS = 60  # a wake-up for a job behind its upload (Redis) nobody took lasts this long
LISTED = 1000  # the most recent jobs a listing looks at


class JobRegistry(Protocol):
    async def put(self, job: Job) -> bool:
        """Record ``job`` as it is now, unless its record is final already (then False);
        a final state drops its lease."""

    async def get(self, job_id: str) -> Job | None: ...

    async def recent(self) -> list[Job]:
        """The most recent jobs (up to :data:`LISTED`), newest first."""

    async def request_cancel(self, job_id: str) -> None: ...

    async def cancel_requested(self, job_id: str) -> bool: ...

    async def set_upload(self, job_id: str, upload: Upload) -> None:
        """Record how much of the job's file has arrived (only its handler writes this)."""

    async def upload(self, job_id: str) -> Upload: ...

    async def wait_upload(self, job_id: str, seen: Upload, timeout: float) -> None:
        """Return once the upload's record differs from ``seen``, or after ``timeout``
        seconds."""

    async def hold(self, job_id: str, ttl: float) -> bool:
        """Take or renew the lease of running job ``job_id`` for ``ttl`` seconds; False
        (and no lease) if the job ended meanwhile (a sweep failed it, it was cancelled)."""

    async def lapsed(self) -> list[str]:
        """The jobs whose lease lapsed, each answered to one caller only (the lease goes)."""

    async def close(self) -> None: ...


class MemoryJobs:
    """Jobs of one server process (the embedded store's deployment)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._cancelled: set[str] = set()
        self._uploads: dict[str, Upload] = {}
        self._waiters: dict[str, set[asyncio.Future]] = {}  # of the uploads' next records
        self._leases: dict[str, float] = {}  # job -> expiry (time.monotonic)

    async def put(self, job: Job) -> bool:
        known = self._jobs.get(job.id)
        if known is not None and known.final:
            return False
        self._jobs[job.id] = Job.from_record(job.to_record())  # a copy: callers go on changing theirs
        if job.final:
            self._leases.pop(job.id, None)
        cutoff = time.time() - KEEP_SECONDS
        for old in [j.id for j in self._jobs.values() if j.final and j.updated < cutoff]:
            del self._jobs[old]
            self._cancelled.discard(old)
            self._uploads.pop(old, None)
        return True

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
        for waiter in self._waiters.pop(job_id, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def upload(self, job_id: str) -> Upload:
        return Upload(**vars(self._uploads.get(job_id, Upload())))

    async def wait_upload(self, job_id: str, seen: Upload, timeout: float) -> None:
        if await self.upload(job_id) != seen:
            return
        waiters = self._waiters.setdefault(job_id, set())
        waiter = asyncio.get_running_loop().create_future()
        waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, timeout)
        finally:  # nobody waits any more: no entry left
            waiters.discard(waiter)
            if not waiters and self._waiters.get(job_id) is waiters:
                del self._waiters[job_id]

    async def hold(self, job_id: str, ttl: float) -> bool:
        job = self._jobs.get(job_id)
        if job is not None and job.final:
            self._leases.pop(job_id, None)
            return False
        self._leases[job_id] = time.monotonic() + ttl
        return True

    async def lapsed(self) -> list[str]:
        now = time.monotonic()
        gone = [job_id for job_id, expiry in self._leases.items() if expiry <= now]
        for job_id in gone:
            del self._leases[job_id]
        return gone

    async def close(self) -> None:
        return None


_FINAL_LUA = " or ".join(f"state == '{state}'" for state in sorted(FINAL))
_ENDED = f"""
local function ended(key)
  local raw = redis.call('GET', key)
  if not raw then return false end
  local state = cjson.decode(raw)['state']
  return {_FINAL_LUA}
end
"""
_CLOCK = """
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
"""
# KEYS: record, index, leases, arrived; ARGV: record JSON, keep seconds, created, id,
# cutoff, final
_PUT = _ENDED + """
if ended(KEYS[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
if ARGV[6] == '1' then
  redis.call('ZREM', KEYS[3], ARGV[4])
  redis.call('DEL', KEYS[4])
end
return 1
"""
# KEYS: record, leases; ARGV: id, ttl (ms). Expiries in Redis's clock: hosts may differ.
_HOLD = _ENDED + _CLOCK + """
if ended(KEYS[1]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1
"""
# KEYS: leases
_LAPSED = _CLOCK + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, 100)
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
return ids
"""
MIN_BLOCK = 0.01  # seconds: a shorter BLPOP timeout would round to 0, which blocks for ever


class RedisJobs:
    """Jobs in Redis under ``<prefix>job:<id>`` (JSON, expiring :data:`KEEP_SECONDS` after
    its last change), ``<prefix>job:<id>:cancel``, ``<prefix>job:<id>:upload`` (with
    ``<prefix>job:<id>:arrived``, a list pushed to when it changes, for a waiting job to
    block on: gone when the job ends, or :data:`WAKE_SECONDS` after the push, as a waiting
    job reads the upload's record before it blocks), the index ``<prefix>jobs`` (a sorted
    set by creation time) and the leases ``<prefix>jobs:leases`` (a sorted set by expiry,
    ms in Redis's clock)."""

    def __init__(self, url: str, prefix: str) -> None:
        from ..state.redis.connection import connect

        self.prefix = prefix
        self._redis = connect(url)
        self._put = self._redis.register_script(_PUT)
        self._hold = self._redis.register_script(_HOLD)
        self._lapsed = self._redis.register_script(_LAPSED)

    def _key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    @property
    def _leases(self) -> str:
        return f"{self.prefix}jobs:leases"

    async def put(self, job: Job) -> bool:
        return bool(await self._put(
            keys=[self._key(job.id), f"{self.prefix}jobs", self._leases,
                  self._key(job.id) + ":arrived"],
            args=[json.dumps(job.to_record()), KEEP_SECONDS, job.created, job.id,
                  time.time() - KEEP_SECONDS, int(job.final)]))

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
        arrived = self._key(job_id) + ":arrived"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(job_id) + ":upload", json.dumps(vars(upload)), ex=KEEP_SECONDS)
            pipe.delete(arrived)  # one wake-up at most, however many changes were missed
            pipe.rpush(arrived, 1)
            pipe.expire(arrived, WAKE_SECONDS)
            await pipe.execute()

    async def upload(self, job_id: str) -> Upload:
        raw = await self._redis.get(self._key(job_id) + ":upload")
        return Upload() if raw is None else Upload(**json.loads(raw))

    async def wait_upload(self, job_id: str, seen: Upload, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while await self.upload(job_id) == seen:  # a wake-up from a change seen already: again
            left = deadline - time.monotonic()
            if left < MIN_BLOCK or not await self._redis.blpop(
                    [self._key(job_id) + ":arrived"], timeout=left):
                return

    async def hold(self, job_id: str, ttl: float) -> bool:
        return bool(await self._hold(keys=[self._key(job_id), self._leases],
                                     args=[job_id, round(ttl * 1000)]))

    async def lapsed(self) -> list[str]:
        return [i.decode() for i in await self._lapsed(keys=[self._leases])]

    async def close(self) -> None:
        await self._redis.aclose()


def open_registry(redis_url: str | None, prefix: str) -> JobRegistry:
    """The registry of a deployment: Redis when it has one, else this process's memory."""
    return RedisJobs(redis_url, prefix) if redis_url else MemoryJobs()
