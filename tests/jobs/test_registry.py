"""The job registries (in memory, in Redis): a record ends once, running jobs' leases lapse
unless renewed, and a job behind its upload is woken by the upload's next record."""

from __future__ import annotations

import asyncio
import secrets

from zndraw_widget.jobs.model import Job, Upload
from zndraw_widget.jobs.registry import WAKE_SECONDS, MemoryJobs, RedisJobs

WAKE = 10.0  # seconds within which a waiter must have woken (it fails the test otherwise)


def new_job() -> Job:
    return Job(room="r", user="u", name="md.xyz", format="extxyz", bytes_total=0)


def test_a_record_ends_once(registry):
    async def scenario():
        jobs = registry()
        job = new_job()
        assert await jobs.put(job)
        job.state = "running"
        assert await jobs.put(job)
        swept = (await jobs.get(job.id))
        swept.state = "failed"
        assert await jobs.put(swept)  # the first end wins ...
        job.state, job.frames_done = "running", 5
        assert not await jobs.put(job)  # ... its worker's later records are refused
        job.state = "done"
        assert not await jobs.put(job)
        assert (await jobs.get(job.id)).state == "failed"
        await jobs.close()

    asyncio.run(scenario())


def test_a_lease_lapses_unless_renewed_and_is_swept_once(registry):
    async def scenario():
        jobs = registry()
        kept, dead = new_job(), new_job()
        for job in (kept, dead):
            await jobs.put(job)
        assert await jobs.hold(kept.id, 60)
        assert await jobs.hold(dead.id, 0)  # lapses at once
        assert await jobs.lapsed() == [dead.id]
        assert await jobs.lapsed() == []  # one sweeper gets it
        dead.state = "failed"
        await jobs.put(dead)
        assert not await jobs.hold(dead.id, 60)  # its worker hears that the job ended
        kept.state = "done"
        await jobs.put(kept)  # the end drops the lease
        assert await jobs.hold(kept.id, 0) is False
        assert await jobs.lapsed() == []
        await jobs.close()

    asyncio.run(scenario())


def test_a_job_waiting_for_its_upload_wakes_when_it_changes(registry):
    async def scenario():
        jobs = registry()
        job = new_job()
        await jobs.set_upload(job.id, Upload(10))
        seen = await jobs.upload(job.id)
        await asyncio.wait_for(jobs.wait_upload(job.id, Upload(5), 60), WAKE)  # differs: at once
        waiting = asyncio.ensure_future(jobs.wait_upload(job.id, seen, 60))
        await asyncio.sleep(0)  # let it start waiting
        assert not waiting.done()
        await jobs.set_upload(job.id, Upload(20, complete=True))
        await asyncio.wait_for(waiting, WAKE)
        assert await jobs.upload(job.id) == Upload(20, complete=True)
        await jobs.wait_upload(job.id, Upload(20, complete=True), 0)  # no change: the timeout
        await jobs.close()

    asyncio.run(scenario())


def test_no_waiter_is_left_in_memory_once_nobody_waits():
    """Each wait for an upload leaves no entry behind, whether it was woken or timed out,
    alone or beside another waiter: many jobs later the registry holds no waiter."""
    async def scenario():
        jobs = MemoryJobs()
        for _ in range(100):
            job = new_job()
            await jobs.set_upload(job.id, Upload(10))
            seen = await jobs.upload(job.id)
            woken = [asyncio.ensure_future(jobs.wait_upload(job.id, seen, 60)) for _ in range(2)]
            lapsing = asyncio.ensure_future(jobs.wait_upload(job.id, seen, 0.01))
            await asyncio.wait_for(lapsing, WAKE)  # times out beside the other two
            assert not any(waiter.done() for waiter in woken)  # still woken by the next record
            await jobs.set_upload(job.id, Upload(20, complete=True))
            await asyncio.wait_for(asyncio.gather(*woken), WAKE)
            await jobs.wait_upload(job.id, Upload(20, complete=True), 0)  # nobody wakes it
            job.state = "done"
            await jobs.put(job)
        assert jobs._waiters == {}

    asyncio.run(scenario())


def test_an_uploads_wake_up_list_in_redis_expires_and_goes_with_its_job(redis_url):
    """The list a job behind its upload blocks on lives :data:`WAKE_SECONDS` (not the
    record's 7 days) and is deleted when the job ends."""
    async def scenario():
        jobs = RedisJobs(redis_url, f"test-{secrets.token_hex(4)}:")
        job = new_job()
        await jobs.put(job)
        arrived = f"{jobs.prefix}job:{job.id}:arrived"
        await jobs.set_upload(job.id, Upload(10))
        assert 0 < await jobs._redis.ttl(arrived) <= WAKE_SECONDS
        job.state = "done"
        await jobs.put(job)
        assert not await jobs._redis.exists(arrived)
        await jobs.close()

    asyncio.run(scenario())
