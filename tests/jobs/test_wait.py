"""``Jobs.wait`` in one process (the embedded store): a wait is ended by the job's event
without asking whether its room exists; a job whose room was deleted before the wait began
(it can announce nothing) is still seen to end."""

from __future__ import annotations

import asyncio

from zndraw_widget.caller import Caller
from zndraw_widget.jobs import service as jobs_service
from zndraw_widget.jobs.model import Job
from zndraw_widget.jobs.service import Jobs
from zndraw_widget.runtime import open_service
from zndraw_widget.settings import Settings

ALICE = Caller("alice", frozenset(), "s1")
WAKE = 10.0  # seconds within which a wait must have ended (it fails the test otherwise)


def in_a_server(tmp_path, scenario):
    """Run ``scenario(jobs, service, room_infos, subscribed)`` against a server process's
    jobs and room service: ``room_infos`` counts the store's ``room_info`` calls,
    ``subscribed`` is set once a wait subscribed to its room."""
    async def main():
        service = open_service(Settings(storage_path=tmp_path))
        jobs = Jobs(Settings(storage_path=tmp_path), lambda: service)
        store, room_infos, subscribed = service.store, [], asyncio.Event()
        room_info, subscribe = store.room_info, store.subscribe

        async def counted_room_info(name):
            room_infos.append(name)
            return await room_info(name)

        async def announced_subscribe(room):
            subscription = await subscribe(room)
            subscribed.set()
            return subscription

        store.room_info, store.subscribe = counted_room_info, announced_subscribe
        try:
            await scenario(jobs, service, room_infos, subscribed)
        finally:
            await jobs.close()
            await store.close()

    asyncio.run(main())


async def running_job(jobs: Jobs, service, room: str) -> Job:
    await service.create_room(ALICE, room, None)
    job = Job(room=room, user="alice", name="md.xyz", format="extxyz", bytes_total=0,
              state="running")
    await jobs.board.save(job)
    return job


def test_a_wait_ended_by_the_jobs_event_asks_nothing_of_its_room(tmp_path):
    async def scenario(jobs, service, room_infos, subscribed):
        job = await running_job(jobs, service, "md")
        room_infos.clear()
        waiting = asyncio.ensure_future(jobs.wait(ALICE, job.id, 60))
        await asyncio.wait_for(subscribed.wait(), WAKE)
        job.state = "done"
        await jobs.board.save(job)  # its job event wakes the wait
        assert (await asyncio.wait_for(waiting, WAKE)).state == "done"
        assert room_infos == []

    in_a_server(tmp_path, scenario)


def test_a_wait_sees_a_job_end_whose_room_was_deleted_before(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs_service, "QUIET", 0.2)

    async def scenario(jobs, service, room_infos, subscribed):
        job = await running_job(jobs, service, "gone")
        await service.delete_room(ALICE, "gone")
        room_infos.clear()
        waiting = asyncio.ensure_future(jobs.wait(ALICE, job.id, 60))
        await asyncio.wait_for(subscribed.wait(), WAKE)
        job.state = "failed"
        await jobs.board.save(job)  # announced to nobody: the room is gone
        assert (await asyncio.wait_for(waiting, WAKE)).state == "failed"
        assert room_infos == ["gone"]  # looked once, after a quiet while

    in_a_server(tmp_path, scenario)
