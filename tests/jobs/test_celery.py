"""The Celery engine: a server with ``--workers celery`` queues its imports for a real
``zndraw-widget worker`` (Celery, redis-server as broker), which runs the same job code as
the pool: the same frames, progress events on the server's websocket, cancel."""

from __future__ import annotations

import pytest

from ..conftest import ServerProcess, start_redis, stop_process
from .helpers import Client, WorkerProcess, follow, run, same_frames


@pytest.fixture(scope="module")
def celery_deployment(tmp_path_factory):
    directory = tmp_path_factory.mktemp("celery")
    redis, url = start_redis(directory)
    storage = directory / "storage"
    server = ServerProcess(storage, env={"ZNDRAW_REDIS_URL": url, "ZNDRAW_WORKERS": "celery"})
    worker = WorkerProcess(storage, url)
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
