"""Several server processes sharing Redis, each running jobs in its own pool (the default
engine): a server killed mid-job leaves a running job whose lease lapses, and another
server fails it."""

from __future__ import annotations

import contextlib
import os
import signal

from ..conftest import ServerProcess
from .helpers import Client, descendants, kill_mid_import, run


def test_a_job_of_a_killed_server_is_failed_by_another(own_redis, tmp_path, files):
    env = {"ZNDRAW_REDIS_URL": own_redis, "ZNDRAW_JOB_TTL": "1"}
    storage = tmp_path / "storage"
    doomed, survivor = ServerProcess(storage, env=env), ServerProcess(storage, env=env)
    below = []
    try:
        importer, watcher = (Client(server.url, server.token) for server in (doomed, survivor))
        assert watcher.call("POST", "rooms", json={"name": "shared", "base": None}).status_code == 201

        def kill() -> None:
            below.extend(descendants(doomed.process.pid))
            doomed.kill()

        ended = run(kill_mid_import(importer, watcher, "shared", files[2], kill))
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
