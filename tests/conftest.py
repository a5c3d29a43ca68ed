"""Shared fixtures: a real redis-server, stores, and small trajectories."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path

import ase
import numpy as np
import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def start_redis(directory: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """Start ``redis-server`` on a unix socket in ``directory``; return (process, url)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server")
    socket = directory / "redis.sock"
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--dir", str(directory), "--save", "", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    for line in process.stdout:  # redis says when it accepts connections
        output.append(line)
        if "ready to accept connections" in line.lower():  # 7.0 writes "now ready to ..."
            break
    else:
        pytest.fail("redis-server exited at start:\n" + "".join(output))
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe drained
    return process, f"unix://{socket}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server for stores with their own key prefixes. A server process records its
    storage path's deployment id in the Redis it uses: tests starting server processes use
    ``own_redis``."""
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait()


@pytest.fixture
def own_redis(tmp_path_factory):
    """A redis-server of this test's own (its server processes bind it to their storage)."""
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_atoms(count: int, natoms: int = 4, seed: int = 0):
    """``count`` small ase.Atoms with distinct positions, a cell and some extras."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        atoms = ase.Atoms(
            numbers=rng.integers(1, 20, natoms),
            positions=rng.random((natoms, 3)) * 5,
            cell=np.eye(3) * 5,
            pbc=[True, True, False],
        )
        atoms.info["step"] = i
        frames.append(atoms)
    return frames


# -- the HTTP API, mounted in Jupyter or standalone ----------------------------------------
class Api:
    """Calls ``{base}zndraw/api/<path>`` on one mounted server; never raises on 4xx."""

    def __init__(self, fetch, kind: str) -> None:
        self._fetch = fetch
        self.kind = kind

    async def call(self, method: str, path: str, *, params=None, json_body=None, body=None,
                   headers=None):
        import json as json_module

        headers = dict(headers or {})
        if json_body is not None:
            body = json_module.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        return await self._fetch(method, path, params or {}, body, headers)

    async def json(self, method: str, path: str, expect: int = 200, **kwargs):
        import json as json_module

        response = await self.call(method, path, **kwargs)
        assert response.code == expect, (response.code, response.body)
        return json_module.loads(response.body) if response.body else None

    async def create_room(self, name: str, **body):
        return await self.json("POST", "rooms", 201, json_body={"name": name, "base": None, **body})

    async def extend(self, room: str, atoms, *, base: int | None = None, at: int | None = None):
        from zndraw_widget import codec
        from zndraw_widget.frames import FrameBatch

        if base is None:
            base = (await self.json("GET", f"rooms/{room}"))["order_version"]
        params = {"base_version": base, **({} if at is None else {"at": at})}
        body = codec.encode(FrameBatch.from_atoms(atoms).to_wire())
        return await self.json("POST", f"rooms/{room}/frames", 201, params=params, body=body)

    async def read(self, room: str, index: str | None = None, data: str | None = None):
        from zndraw_widget import codec

        params = {k: v for k, v in {"index": index, "data": data}.items() if v is not None}
        response = await self.call("GET", f"rooms/{room}/frames", params=params)
        assert response.code == 200, (response.code, response.body)
        return codec.decode(response.body)


def _standalone_fetch(tmp_path, token: str = "secret-token"):
    from urllib.parse import urlencode

    from tornado import httpclient, httpserver, netutil

    from zndraw_widget.server.standalone import make_app
    from zndraw_widget.settings import Settings

    app = make_app(Settings(storage_path=tmp_path / "standalone", max_upload_mb=4), token)
    server = httpserver.HTTPServer(app, max_body_size=(4 << 20) + 1)
    sockets = netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    client = httpclient.AsyncHTTPClient()

    async def fetch(method, path, params, body, headers):
        headers.setdefault("Authorization", f"token {token}")
        url = f"http://127.0.0.1:{port}/zndraw/api/{path}"
        if params:
            url += "?" + urlencode(params)
        return await client.fetch(url, method=method, body=body, headers=headers,
                                  raise_error=False, allow_nonstandard_methods=True,
                                  request_timeout=60)

    fetch.url = f"http://127.0.0.1:{port}/zndraw/api/"
    fetch.app = app
    return server, fetch


@pytest.fixture
def jp_server_config(tmp_path):
    return {
        "ServerApp": {"jpserver_extensions": {"zndraw_widget": True}},
        "ZnDrawWidget": {"storage_path": str(tmp_path / "jupyter"), "max_upload_mb": 4},
    }


@pytest.fixture(params=["jupyter", "standalone"])
def api(request, tmp_path):
    """The data channel, as a Jupyter server extension and as the standalone server."""
    if request.param == "jupyter":
        jp_fetch = request.getfixturevalue("jp_fetch")

        async def fetch(method, path, params, body, headers):
            return await jp_fetch("zndraw", "api", *path.split("/"), method=method, body=body,
                                  headers=headers, params=params, raise_error=False,
                                  allow_nonstandard_methods=True, request_timeout=60)

        yield Api(fetch, "jupyter")
        return
    server, fetch = _standalone_fetch(tmp_path)
    yield Api(fetch, "standalone")
    server.stop()


# -- headless Chromium (Debian's, never Playwright's download; see shared/BROWSER-TESTING.md) --
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--enable-unsafe-swiftshader",
]


# -- a standalone server in its own process ------------------------------------------------
def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask ``process`` to end (SIGTERM); kill it if it has not within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ServerProcess:
    """``zndraw-widget serve`` in a subprocess (``python <command> serve ...``); ``url`` is
    its API root, ``log()`` what it printed."""

    def __init__(self, storage: Path, *args: str, token: str = "test-token", env=None,
                 command: tuple[str, ...] = ("-m", "zndraw_widget")) -> None:
        import os
        import re
        import sys

        self.token = token
        self.process = subprocess.Popen(
            [sys.executable, *command, "serve", "--port", "0", "--storage",
             str(storage), "--token", token, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})},
        )
        output = []
        for line in self.process.stdout:  # the server prints one line once it listens
            output.append(line)
            match = re.search(r"serving on (http://\S+?)/? \(token", line)
            if match:
                self.base = match.group(1) + "/"
                self.url = self.base + "zndraw/api/"
                break
        else:
            raise RuntimeError("the server did not start:\n" + "".join(output))
        self._log = output
        self._reader = threading.Thread(target=self._log.extend, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()

    def log(self) -> str:
        """Everything the process printed, once it has exited."""
        self.process.wait(10)
        self._reader.join(10)
        return "".join(self._log)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def stop(self) -> None:
        stop_process(self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


# -- kernel-side clients on a server process ------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A standalone server process shared by a test module's clients."""
    process = ServerProcess(tmp_path_factory.mktemp("server"))
    yield process
    process.stop()


@pytest.fixture
def no_ambient_server(monkeypatch):
    """Discovery sees only what a test sets."""
    for name in ("ZNDRAW_URL", "ZNDRAW_TOKEN", "JPY_PARENT_PID", "JUPYTERHUB_API_TOKEN",
                 "JUPYTERHUB_SERVICE_PREFIX", "JUPYTER_SERVER_URL", "JUPYTERHUB_SERVICE_URL"):
        monkeypatch.delenv(name, raising=False)


_names = iter(range(10**6))


@pytest.fixture
def room_name():
    return f"room-{next(_names)}"


@pytest.fixture
def connect(server, room_name, no_ambient_server):
    """Open ``Room`` clients on ``server`` (closed after the test)."""
    opened = []

    def open_room(name: str = room_name, **kwargs):
        from zndraw_widget import Room

        room = Room(name, url=server.base, token=server.token, **{"create": True, **kwargs})
        opened.append(room)
        return room

    yield open_room
    for room in opened:
        room.close()


def tagged(tag: int, natoms: int = 2) -> ase.Atoms:
    atoms = make_atoms(1, natoms=natoms, seed=tag)[0]
    atoms.info["tag"] = tag
    return atoms


def tags(frames) -> list[int]:
    return [atoms.info["tag"] for atoms in frames]


# -- access control (owners, grants, users) -----------------------------------------------------
def add_user(users_file: Path, name: str, *args: str) -> str:
    """Add user ``name`` to a standalone users file (``zndraw-widget user add``; ``args``
    such as ``--group lab``); the token it printed."""
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "zndraw_widget", "user", "add", name, *args, "--users",
         str(users_file)], check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]
