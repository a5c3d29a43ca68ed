"""livez, readyz and health answer a load balancer without credentials; nothing else does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from ..conftest import ServerProcess, start_redis, stop_process


def status(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_probes_need_no_token_and_readyz_follows_the_store(tmp_path):
    redis, url = start_redis(tmp_path)
    server = ServerProcess(tmp_path / "storage", "--redis-url", url)
    try:
        assert status(server.url + "livez") == (200, {"status": "alive"})
        assert status(server.url + "readyz") == (200, {"status": "ready"})
        code, health = status(server.url + "health")
        assert code == 200 and health["version"]
        assert status(server.url + "rooms")[0] == 401  # the rest still needs the token
        stop_process(redis)  # the backend is gone: not ready, still alive
        code, body = status(server.url + "readyz")
        assert code == 503 and body["status"] == "unavailable"
        assert status(server.url + "livez")[0] == 200
    finally:
        server.stop()
        stop_process(redis)
