"""A job behind its upload tells a receiving server that stopped (its upload's record no
longer renewed: the job fails, saying so, instead of waiting for ever) from a client that
pauses (the server renews the record: the job waits and then imports the rest)."""

from __future__ import annotations

import asyncio

from zndraw_widget.caller import Caller
from zndraw_widget.jobs.model import Job, Upload
from zndraw_widget.jobs.parse import parse_piece
from zndraw_widget.jobs.runner import Board, run_import
from zndraw_widget.jobs.upload import UploadFeed
from zndraw_widget.runtime import open_service
from zndraw_widget.settings import Settings

ALICE = Caller("alice", frozenset(), "s1")
RENEW_EVERY = 0.2  # seconds between the receiving server's renewals of the upload's record
PART = 3 << 20  # bytes that arrived before the upload stopped or paused
WAKE = 20.0  # seconds within which the job must have ended (it fails the test otherwise)


def importing(tmp_path, registry, scenario):
    """Run ``scenario(registry, job, start)`` with job ``job`` importing into room ``md``
    the file at ``job.path`` (``start()``: a task running it, its parse in threads)."""
    async def main():
        service = open_service(Settings(storage_path=tmp_path))
        jobs = registry()
        await service.create_room(ALICE, "md", None)
        job = Job(room="md", user="alice", name="md.extxyz", format="extxyz", bytes_total=0,
                  path=str(tmp_path / "upload"), caller=Job.caller_record(ALICE))
        await jobs.put(job)

        async def parse(piece, arrived, complete):
            return await asyncio.to_thread(parse_piece, job.path, job.format, piece, arrived,
                                           complete)

        def start() -> asyncio.Task:
            board = Board(jobs, lambda: service.store)
            return asyncio.ensure_future(run_import(job, service, board, parse, 2, 30))

        try:
            await scenario(jobs, job, start)
            assert (await service.room_info(ALICE, "md")).length == job.frames_done > 0
        finally:
            await jobs.close()
            await service.store.close()

    asyncio.run(main())


def test_a_job_whose_uploads_server_stopped_fails_saying_so(tmp_path, registry, files):
    async def scenario(jobs, job, start):
        (tmp_path / "upload").write_bytes(files[0].read_bytes()[:PART])
        # as the receiving server told it, just before it stopped
        await jobs.set_upload(job.id, Upload(PART, renewed=3, renew_every=RENEW_EVERY))
        ended = await asyncio.wait_for(start(), WAKE)
        assert ended.state == "failed", ended
        assert ended.error["message"] == (
            "the upload stopped arriving: the server receiving it said nothing for 0.6 s (it "
            "stopped, or lost its connection to Redis); upload the file again")

    importing(tmp_path, registry, scenario)


def test_a_job_waits_for_a_paused_upload_its_server_renews(tmp_path, registry, files):
    trajectory, frames, _ = files

    async def scenario(jobs, job, start):
        body = trajectory.read_bytes()
        feed = UploadFeed(jobs, job.id, open(job.path, "wb"), RENEW_EVERY)
        feed.write(body[:PART])
        running = start()

        async def renewed(times: int) -> Upload:
            seen = await jobs.upload(job.id)
            while seen.renewed < times:
                await jobs.wait_upload(job.id, seen, WAKE)
                seen = await jobs.upload(job.id)
            return seen

        # paused for 10 renewals, over three times the limit
        assert (await asyncio.wait_for(renewed(10), WAKE)).received == PART
        assert not running.done()
        feed.write(body[PART:])
        await feed.end()
        ended = await asyncio.wait_for(running, WAKE)
        assert ended.state == "done", ended
        assert ended.frames_done == len(frames)

    importing(tmp_path, registry, scenario)
