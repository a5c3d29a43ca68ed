"""Several server processes sharing Redis, each running jobs in its own pool (the default
engine): a server killed mid-job leaves a running job whose lease lapses, and another
server fails it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import httpx

from ..conftest import ServerProcess
from .helpers import FINAL, Client, descendants, run


def test_a_job_of_a_killed_server_is_failed_by_another(own_redis, tmp_path, files):
    env = {"ZNDRAW_REDIS_URL": own_redis, "ZNDRAW_JOB_TTL": "1"}
    storage = tmp_path / "storage"
    doomed, survivor = ServerProcess(storage, env=env), ServerProcess(storage, env=env)
    below = []
    try:
        importer, watcher = (Client(server.url, server.token) for server in (doomed, survivor))
        assert watcher.call("POST", "rooms", json={"name": "shared", "base": None}).status_code == 201

        async def kill_mid_job():
            control = await watcher.control("shared", timeout=60)
            release = asyncio.Event()
            upload = asyncio.ensure_future(
                importer.upload_held("shared", files[2], 8 << 20, release))
            running = await control.event(
                lambda e: e["type"] == "job" and e["job"]["frames_done"] > 0)
            below.extend(descendants(doomed.process.pid))
            doomed.kill()
            release.set()
            ended = await control.event(
                lambda e: e["type"] == "job" and e["job"]["state"] in FINAL
                and e["job"]["id"] == running["job"]["id"])
            with contextlib.suppress(httpx.HTTPError):  # its server is gone
                await upload
            control.close()
            return ended["job"]

        ended = run(kill_mid_job())
        assert ended["state"] == "failed", ended
        assert ended["error"]["message"].startswith("the worker running this job stopped (")
        assert watcher.call("GET", "rooms/shared").json()["length"] >= ended["frames_done"] > 0
        assert not list((storage / "uploads").iterdir())  # its spooled file removed
    finally:
        for pid in below:  # the killed server's parse processes, if left
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        survivor.stop()
        doomed.stop()
