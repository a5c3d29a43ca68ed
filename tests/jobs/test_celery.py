"""The Celery engine: a server with ``--workers celery`` queues its imports for a real
``zndraw-widget worker`` (Celery, redis-server as broker), which runs the same job code as
the pool: the same frames, progress events on the server's websocket, cancel; a worker
killed mid-job fails its job once the job's lease lapses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import pytest

from ..conftest import ServerProcess, start_redis, stop_process
from .helpers import (
    FINAL,
    Client,
    WorkerProcess,
    descendants,
    follow,
    kill_mid_import,
    run,
    same_frames,
)


@pytest.fixture(scope="module")
def celery_deployment(tmp_path_factory):
    directory = tmp_path_factory.mktemp("celery")
    redis, url = start_redis(directory)
    storage = directory / "storage"
    server = ServerProcess(storage, env={"ZNDRAW_REDIS_URL": url, "ZNDRAW_WORKERS": "celery"})
    worker = WorkerProcess(storage, url, "--job-ttl", "1")
    yield Client(server.url, server.token), worker
    server.stop()
    worker.stop()
    stop_process(redis)


def test_a_celery_worker_imports_an_upload_as_the_pool_does(celery_deployment, files):
    client, worker = celery_deployment
    trajectory, frames, _ = files
    assert client.call("POST", "rooms", json={"name": "md", "base": None}).status_code == 201

    async def upload():
        control = await client.control("md")
        job = (await client.upload("md", trajectory)).json()["job"]
        events = await follow(control, job["id"])
        control.close()
        return events

    events = run(upload())
    assert events[-1]["state"] == "done", events[-1]
    assert any(0 < event["frames_done"] < len(frames) for event in events)
    same_frames(client.frames("md", ":"), frames)
    assert "zndraw_widget.import_file" in "".join(worker.lines)  # the worker ran it


def test_cancel_reaches_a_celery_worker(celery_deployment, files):
    client, _ = celery_deployment
    large = files[2]
    assert client.call("POST", "rooms", json={"name": "big", "base": None}).status_code == 201

    async def cancel_after_the_first_batch():
        control = await client.control("big")
        job = (await client.upload("big", large)).json()["job"]
        await control.event(lambda e: e["type"] == "job" and e["job"]["frames_done"] > 0)
        control.close()
        return client.call("DELETE", f"jobs/{job['id']}").json()

    job = run(cancel_after_the_first_batch())
    assert job["state"] == "cancelled", job
    assert client.call("GET", "rooms/big").json()["length"] == job["frames_done"] > 0


@pytest.fixture
def mortal_deployment(tmp_path):
    """A server and a worker of their own (jobs' lease: 1 s), the worker to be killed."""
    redis, url = start_redis(tmp_path)
    storage = tmp_path / "storage"
    server = ServerProcess(storage, env={"ZNDRAW_REDIS_URL": url, "ZNDRAW_WORKERS": "celery",
                                         "ZNDRAW_JOB_TTL": "1"})
    worker = WorkerProcess(storage, url, "--job-ttl", "1")
    below = descendants(worker.process.pid)
    yield Client(server.url, server.token), worker
    server.stop()
    worker.stop()
    for pid in below + descendants(worker.process.pid):  # its parse processes, if left
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    stop_process(redis)


def test_a_job_whose_worker_is_killed_fails_once_its_lease_lapses(mortal_deployment, files):
    """SIGKILL the worker mid-job (the upload held back, so the job cannot end first): the
    server fails the job with a clear error, told as a ``job`` event and answered to a
    ``GET jobs/<id>?wait=`` waiting meanwhile; the frames committed stay."""
    client, worker = mortal_deployment
    large = files[2]
    assert client.call("POST", "rooms", json={"name": "mortal", "base": None}).status_code == 201

    async def kill_mid_job():
        control = await client.control("mortal", timeout=60)
        release = asyncio.Event()
        upload = asyncio.ensure_future(client.upload_held("mortal", large, 8 << 20, release))
        running = await control.event(
            lambda e: e["type"] == "job" and e["job"]["frames_done"] > 0)
        job_id = running["job"]["id"]
        waiting = asyncio.ensure_future(asyncio.to_thread(
            client.call, "GET", f"jobs/{job_id}", params={"wait": 60}))
        for pid in [worker.process.pid, *descendants(worker.process.pid)]:
            os.kill(pid, signal.SIGKILL)
        release.set()
        ended = await control.event(lambda e: e["type"] == "job" and e["job"]["id"] == job_id
                                    and e["job"]["state"] in FINAL)
        waited = (await waiting).json()
        assert (await upload).status_code == 202
        control.close()
        return running["job"], ended["job"], waited

    running, ended, waited = run(kill_mid_job())
    assert ended["state"] == "failed", ended
    assert ended["error"]["message"].startswith("the worker running this job stopped (")
    assert ended["error"]["message"].endswith("upload the file again")
    assert waited == client.call("GET", f"jobs/{running['id']}").json()
    assert waited["state"] == "failed"
    # the frames committed stay (the record may lag the last batch: progress is throttled)
    assert client.call("GET", "rooms/mortal").json()["length"] >= ended["frames_done"] > 0


def test_a_wait_is_woken_by_the_jobs_events_not_by_polling(tmp_path, files):
    """``GET jobs/<id>?wait=`` hears of the job through its events: waiting on a job that
    does not change reads its record a few times (polling read it every 50 ms), and a
    cancel ends the wait at once. No worker runs: the job stays queued until cancelled."""
    import redis

    redis_process, url = start_redis(tmp_path)
    server = ServerProcess(tmp_path / "storage", env={"ZNDRAW_REDIS_URL": url,
                                                      "ZNDRAW_WORKERS": "celery"})
    try:
        client = Client(server.url, server.token)
        head = files[0].read_bytes()[:100_000]
        job = client.upload_small("idle", head, "md.extxyz").json()["job"]
        counter = redis.Redis.from_url(url)

        def reads() -> int:
            return counter.info("commandstats").get("cmdstat_get", {}).get("calls", 0)

        before = reads()
        waited = client.call("GET", f"jobs/{job['id']}", params={"wait": 2}).json()
        assert waited["state"] == "queued"
        assert reads() - before <= 4  # polling: 40

        async def cancel_while_waiting():
            waiting = asyncio.ensure_future(asyncio.to_thread(
                client.call, "GET", f"jobs/{job['id']}", params={"wait": 60}))
            await asyncio.to_thread(client.call, "DELETE", f"jobs/{job['id']}")
            return (await waiting).json()

        assert run(cancel_while_waiting())["state"] == "cancelled"
        counter.close()
    finally:
        server.stop()
        stop_process(redis_process)


def test_a_job_no_worker_takes_fails_saying_so(tmp_path, files):
    """No worker runs: once ``job_queue_timeout`` passed, a server fails the queued job with
    an error naming the cause and the command that fixes it; the room the upload made and
    the spooled file go."""
    redis_process, url = start_redis(tmp_path)
    storage = tmp_path / "storage"
    server = ServerProcess(storage, env={"ZNDRAW_REDIS_URL": url, "ZNDRAW_WORKERS": "celery",
                                         "ZNDRAW_JOB_TTL": "1",
                                         "ZNDRAW_JOB_QUEUE_TIMEOUT": "1"})
    try:
        client = Client(server.url, server.token)
        head = files[0].read_bytes()[:100_000]
        job = client.upload_small("unserved", head, "md.extxyz").json()["job"]
        assert job["state"] == "queued"
        waited = client.call("GET", f"jobs/{job['id']}", params={"wait": 30}).json()
        assert waited["state"] == "failed", waited
        assert waited["error"]["message"] == (
            "no worker took this job within 1 s: start one with 'zndraw-widget worker' (give "
            "it the servers' --storage and --redis-url), or more if they are all busy, then "
            "upload the file again")
        assert client.call("GET", "rooms/unserved").status_code == 404
        assert not list((storage / "uploads").iterdir())
    finally:
        server.stop()
        stop_process(redis_process)


def test_a_job_whose_uploads_server_is_killed_mid_body_fails_saying_so(tmp_path, files):
    """The server receiving an upload is killed mid-body while a worker runs its job: the
    upload's record is no longer renewed, and the worker fails the job (it waited for ever
    before), told through the other server; the frames committed stay."""
    redis_process, url = start_redis(tmp_path)
    storage = tmp_path / "storage"
    env = {"ZNDRAW_REDIS_URL": url, "ZNDRAW_WORKERS": "celery", "ZNDRAW_JOB_TTL": "1"}
    doomed, survivor = ServerProcess(storage, env=env), ServerProcess(storage, env=env)
    worker = WorkerProcess(storage, url, "--job-ttl", "1")
    try:
        importer, watcher = (Client(server.url, server.token) for server in (doomed, survivor))
        assert watcher.call("POST", "rooms", json={"name": "cut", "base": None}).status_code == 201

        ended = run(kill_mid_import(importer, watcher, "cut", files[2], doomed.kill))
        assert ended["state"] == "failed", ended
        assert ended["error"]["message"] == (
            "the upload stopped arriving: the server receiving it said nothing for 1 s (it "
            "stopped, or lost its connection to Redis); upload the file again")
        assert watcher.call("GET", "rooms/cut").json()["length"] == ended["frames_done"] > 0
    finally:
        worker.stop()
        survivor.stop()
        doomed.stop()
        stop_process(redis_process)
