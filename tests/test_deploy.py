"""The production topology, natively: the project's own docker/nginx/nginx.conf (rendered for
local ports) in front of three ``serve`` replicas on one redis-server. Uploads, reads, 100
websockets and a Chromium page go through nginx, and keep working when a replica is killed;
a ``Room.extend`` lands exactly once although replicas die in the middle of it.
The compose files validate with ``docker-compose config`` and run valid commands."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ase.io
import msgpack
import numpy as np
import pytest
import yaml
from tornado import httpclient, websocket

from zndraw_widget import codec
from zndraw_widget.cli import make_parser
from zndraw_widget.client import Room, upload
from zndraw_widget.frames import FrameBatch

from .conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ServerProcess,
    free_port,
    make_atoms,
    start_redis,
    stop_process,
)
from .held_commits import HeldCommits, process_with_connection, signal_all
from .jobs.helpers import Client, WorkerProcess, follow
from .server.test_control import Control

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
TOKEN = "deploy-token"
SOCKETS = 100


def need(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{program} is not installed: run scripts/install-test-deps.sh")
    return found


def render_nginx_conf(upstreams: list[str], port: int, directory: Path) -> str:
    """docker/nginx/nginx.conf with the replicas at ``upstreams`` (host:port), listening on
    ``port`` of loopback, its temporary files and logs in ``directory``."""
    text = (DOCKER / "nginx" / "nginx.conf").read_text()
    text, servers = re.subn(r"server zndraw:8765([^;]*);",
                            lambda m: "".join(f"server {u}{m.group(1)}; " for u in upstreams),
                            text)
    text, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert servers == 1 and listens == 1, "nginx.conf changed shape: update this test"
    local = "".join(f"{kind}_temp_path {directory / kind}; "
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return text.replace("http {", f"http {{ access_log off; {local}", 1)


class Cluster:
    """redis-server, three replicas (their jobs run by Celery), a job worker and nginx;
    ``base`` is nginx's URL, ``api`` its API root (also used by benchmarks/bench_cluster.py)."""

    def __init__(self, directory: Path, token: str = TOKEN) -> None:
        nginx = need("nginx")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.token = directory, token
        self.redis_port = free_port()  # over TCP, as in production
        self.redis, _ = start_redis(directory, "--port", str(self.redis_port),
                                    "--bind", "127.0.0.1")
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.replicas = [self._replica() for _ in range(3)]
        self.worker = WorkerProcess(directory / "storage", self.redis_url,
                                    "--redis-prefix", "deploy:")
        self.port = free_port()
        conf = directory / "nginx.conf"
        upstreams = [r.base.split("//")[1].rstrip("/") for r in self.replicas]
        conf.write_text(render_nginx_conf(upstreams, self.port, directory))
        settings = f"daemon off; pid {directory}/nginx.pid; error_log {directory}/nginx.log;"
        if os.geteuid() == 0:  # workers as root: they may use the test's private directory
            settings += " user root;"
        self.nginx = subprocess.Popen([nginx, "-p", str(directory), "-c", str(conf),
                                       "-g", settings], stderr=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{self.port}/"
        self.api = self.url = self.base + "zndraw/api/"
        self._wait_ready()

    def _replica(self, *args: str) -> ServerProcess:
        return ServerProcess(self.directory / "storage", "--redis-url", self.redis_url,
                             "--redis-prefix", "deploy:", "--workers", "celery", *args,
                             token=self.token)

    def revive(self) -> None:
        """Start a new replica on the port of each one that died (nginx's upstream stays)."""
        for index, replica in enumerate(self.replicas):
            if replica.process.poll() is not None:
                port = replica.base.rstrip("/").rsplit(":", 1)[1]
                self.replicas[index] = self._replica("--port", port)

    def replica_with_redis_connection(self, address: str) -> ServerProcess:
        """The replica whose connection to Redis comes from ``address`` (host:port)."""
        pid = process_with_connection([r.process.pid for r in self.replicas
                                       if r.process.poll() is None], address, self.redis_port)
        return next(r for r in self.replicas if r.process.pid == pid)

    def _wait_ready(self) -> None:
        """nginx answers once it listens: wait on a connection, not on time."""
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                try:  # not listening yet: wait on nginx a moment, failing if it exits
                    self.nginx.wait(0.02)
                    raise RuntimeError("nginx exited: " + self.nginx.stderr.read()) from None
                except subprocess.TimeoutExpired:
                    continue

    def stop(self) -> None:
        stop_process(self.nginx)
        for replica in self.replicas:
            replica.stop()
        self.worker.stop()
        stop_process(self.redis)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


def run(coroutine) -> object:
    """Run ``coroutine`` to its end in a thread of its own (Playwright's sync API keeps an
    event loop running in the test's thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def call(cluster: Cluster, method: str, path: str, body=None, session="s", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return await httpclient.AsyncHTTPClient().fetch(
        cluster.api + path + ("?" + query if query else ""), method=method, body=body,
        headers={"Authorization": f"token {TOKEN}", "X-ZnDraw-Session": session},
        raise_error=False, allow_nonstandard_methods=True, request_timeout=60)


async def create_with_frames(cluster: Cluster, room: str, atoms) -> None:
    created = await call(cluster, "POST", "rooms", json.dumps({"name": room, "base": None}))
    assert created.code == 201, created.body
    written = await call(cluster, "POST", f"rooms/{room}/frames",
                         codec.encode(FrameBatch.from_atoms(atoms).to_wire()), base_version=0)
    assert written.code == 201, written.body


async def open_control(cluster: Cluster, origin: str | None = None) -> Control:
    headers = {"Authorization": f"token {TOKEN}",
               "Origin": origin or cluster.base.rstrip("/")}  # as a browser on nginx's page
    connection = await websocket.websocket_connect(httpclient.HTTPRequest(
        cluster.api.replace("http", "ws") + "ws", headers=headers))
    return await Control(connection).start()


def test_probes_uploads_and_reads_through_nginx(cluster):
    async def scenario():
        for probe in ("livez", "readyz", "zndraw/api/readyz", "zndraw/api/health"):  # no token
            response = await httpclient.AsyncHTTPClient().fetch(cluster.base + probe)
            assert response.code == 200
        atoms = make_atoms(3, natoms=50_000)  # ~4 MB: streamed through nginx
        await create_with_frames(cluster, "upload", atoms)
        for _ in range(6):  # round robin: every replica serves the data
            read = await call(cluster, "GET", "rooms/upload/frames")
            assert read.code == 200
            assert FrameBatch.from_wire(codec.decode(read.body)).to_atoms() == atoms
        refused = await httpclient.AsyncHTTPClient().fetch(cluster.api + "rooms",
                                                           raise_error=False)
        assert refused.code == 401
        unread = await httpclient.AsyncHTTPClient().fetch(  # past the 64 KiB before login
            cluster.api + "rooms/upload/frames?base_version=1", method="POST",
            body=b"\0" * (1 << 20), raise_error=False)
        assert unread.code == 401
        assert json.loads((await call(cluster, "GET", "rooms/upload")).body)["length"] == 3

    run(scenario())


def test_a_file_uploaded_through_nginx_is_imported_by_a_worker(cluster, tmp_path):
    images = make_atoms(300, natoms=200)
    path = tmp_path / "md.extxyz"
    ase.io.write(path, images)
    expected = ase.io.read(path, ":")
    client = Client(cluster.api, TOKEN)

    async def scenario():
        created = await call(cluster, "POST", "rooms", json.dumps({"name": "imported",
                                                                   "base": None}))
        assert created.code == 201, created.body
        control = await open_control(cluster)
        assert (await control.request("join_room", room="imported"))["ok"]
        response = await client.upload("imported", path)  # streamed (chunked) through nginx
        assert response.status_code == 202, response.text
        events = await follow(control, response.json()["job"]["id"])
        control.close()
        return events

    events = run(scenario())
    assert events[-1]["state"] == "done" and events[-1]["frames_done"] == 300, events[-1]
    same_positions = [np.allclose(a.positions, b.positions)
                      for a, b in zip(client.frames("imported", ":"), expected)]
    assert len(same_positions) == 300 and all(same_positions)
    assert "zndraw_widget.import_file" in "".join(cluster.worker.lines)


def test_a_hundred_websockets_through_nginx(cluster):
    async def scenario():
        await create_with_frames(cluster, "fanout", make_atoms(1))
        controls = await asyncio.gather(*(open_control(cluster) for _ in range(SOCKETS)))
        try:
            joined = await asyncio.gather(*(c.request("join_room", room="fanout")
                                            for c in controls))
            assert all(reply["ok"] for reply in joined)
            written = await call(cluster, "POST", "rooms/fanout/frames",
                                 codec.encode(FrameBatch.from_atoms(make_atoms(1)).to_wire()),
                                 base_version=1)
            assert written.code == 201
            events = await asyncio.gather(*(c.event(lambda e: e["type"] == "frames_inserted")
                                            for c in controls))
            assert {e["seq"] for e in events} == {json.loads(written.body)["seq"]}
        finally:
            for control in controls:
                control.close()
        with pytest.raises(httpclient.HTTPClientError) as refused:  # the origin check is on
            await open_control(cluster, origin="http://evil.example")
        assert refused.value.code == 403

    run(scenario())


def test_a_replica_killed_between_requests(cluster):
    """Reads, websockets (catching up by seq) and a Chromium page keep working."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (ROOT / "src" / "zndraw_widget" / "static" / "widget.js").is_file():
        pytest.skip("the front end bundle is not built")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            survive_a_kill(cluster, browser)
        finally:
            browser.close()


def survive_a_kill(cluster: Cluster, browser) -> None:
    from .e2e.viewer_page import ViewerPage

    run(create_with_frames(cluster, "survive", make_atoms(2, natoms=10)))
    viewer = ViewerPage(browser.new_page(viewport={"width": 800, "height": 600}))
    page = viewer.page
    page.goto(f"{cluster.base}rooms/survive?token={TOKEN}")
    assert viewer.wait_rendered()["length"] == "2"
    viewer.wait_marker("control", "open")  # the page's websocket through nginx: Host keeps the port

    async def scenario():
        controls = await asyncio.gather(*(open_control(cluster) for _ in range(30)))
        joined = await asyncio.gather(*(c.request("join_room", room="survive")
                                        for c in controls))
        seq = joined[0]["room"]["seq"]
        cluster.replicas[0].kill()  # SIGKILL, between requests
        for _ in range(6):  # every read lands: nginx moves past the dead replica
            read = await call(cluster, "GET", "rooms/survive/frames", index="0")
            assert read.code == 200
        written = await call(cluster, "POST", "rooms/survive/frames",
                             codec.encode(FrameBatch.from_atoms(make_atoms(1, natoms=10))
                                          .to_wire()), base_version=1)
        assert written.code == 201
        new_seq = json.loads(written.body)["seq"]

        async def catch_up(control: Control) -> tuple[bool, int]:
            """(was cut off, the seq this client knows after catching up)."""
            while True:
                raw = await asyncio.wait_for(control.connection.read_message(), 30)
                if raw is None:  # its replica died: reconnect through nginx, then resync
                    again = await open_control(cluster)
                    reply = await again.request("join_room", room="survive")
                    missed = json.loads((await call(cluster, "GET", "rooms/survive/events",
                                                    since=seq)).body)
                    again.close()
                    assert [e["seq"] for e in missed["events"]] == [new_seq]
                    return True, max(reply["room"]["seq"], missed["seq"])
                message = msgpack.unpackb(raw)
                if message["type"] == "frames_inserted":
                    control.close()
                    return False, message["seq"]

        outcomes = await asyncio.gather(*(catch_up(c) for c in controls))
        assert {known for _, known in outcomes} == {new_seq}
        assert any(cut for cut, _ in outcomes) and not all(cut for cut, _ in outcomes)

    run(scenario())
    viewer.wait_marker("length", "3")
    viewer.press("End")
    viewer.wait_rendered(frame=2)
    page.close()


FRAMES, PER_CHUNK, NATOMS = 3000, 250, 500  # 12 chunks of ~4 MB


def test_an_upload_outlives_the_replicas_writing_it(cluster, no_ambient_server):
    """``Room.extend`` through nginx lands every frame exactly once, in order, although the
    replica writing chunk 1 dies before its commit and the one writing chunk 2 dies after
    its commit, before it answered: the client sends each chunk again with its idempotency
    key, and the repeat of chunk 2 returns the first one's result."""
    cluster.revive()  # the replica an earlier test killed
    with Room("failover-warm-up", url=cluster.base, token=TOKEN, create=True) as warm_up:
        warm_up.extend(make_atoms(2), progress=False)  # loads the scripts extend runs
    atoms = make_atoms(FRAMES, natoms=NATOMS)
    commits = HeldCommits(cluster.redis_url)
    min_argv = PER_CHUNK * 64  # a commit names every frame's content hash (64 hex digits)
    died: list[tuple[int, int, str]] = []  # (chunk, replica, when)

    def live() -> list[int]:
        return [r.process.pid for r in cluster.replicas if r.process.poll() is None]

    def kill_before_commit() -> None:  # chunk 1 was sent: run up to its commit, held
        pids = live()
        held = commits.step_to_commit(pids, min_argv)
        replica = cluster.replica_with_redis_connection(held)
        replica.kill()
        died.append((1, cluster.replicas.index(replica), "before its commit"))
        commits.gone(held)  # its commit never runs
        signal_all([pid for pid in pids if pid != replica.process.pid], signal.SIGCONT)
        commits.release()
        assert commits.next_commit()[0].endswith("-1")  # sent again, to another replica
        commits.hold()  # for chunk 2

    def kill_after_commit() -> None:  # chunk 2 was sent: run up to its commit, held
        pids = live()
        held = commits.step_to_commit(pids, min_argv)
        replica = cluster.replica_with_redis_connection(held)
        signal_all([pid for pid in pids if pid != replica.process.pid], signal.SIGCONT)
        commits.release()
        key, by = commits.next_commit()
        assert key.endswith("-2") and by == held  # committed by the stopped replica...
        replica.kill()  # ...which never answers
        died.append((2, cluster.replicas.index(replica), "after its commit, unanswered"))

    def hold_after_chunk_0() -> None:  # chunk 0 was sent, chunk 1 not yet
        assert commits.next_commit()[0].endswith("-0")
        commits.hold()

    before_chunk = {1: hold_after_chunk_0, 2: kill_before_commit, 3: kill_after_commit}

    def frames():
        """``atoms``, read lazily by extend: chunk n is read after chunk n - 1 was sent."""
        for index, frame in enumerate(atoms):
            chunk, first = divmod(index, PER_CHUNK)
            if first == 0 and chunk in before_chunk:
                try:
                    before_chunk[chunk]()
                except BaseException:  # fail fast: nothing left stopped or held
                    signal_all(live(), signal.SIGCONT)
                    commits.release()
                    raise
            yield frame

    frame_size = upload.frame_bytes(upload.to_frame(atoms[0]))
    try:
        with Room("failover", url=cluster.base, token=TOKEN, create=True,
                  batch_bytes=PER_CHUNK * frame_size) as room:
            started = time.monotonic()
            room.extend(frames(), progress=False)
            took = time.monotonic() - started
            assert room[:] == atoms  # every frame once, in order, the same contents
    finally:
        commits.close()
    assert [chunk for chunk, _, _ in died] == [1, 2]
    chunks = FRAMES // PER_CHUNK
    events = json.loads(run(call(cluster, "GET", "rooms/failover/events", since=0)).body)
    assert [e["inserted"] for e in events["events"] if e["type"] == "frames_spliced"] == \
        [list(range(c * PER_CHUNK, (c + 1) * PER_CHUNK)) for c in range(chunks)]  # once each
    print(f"\n{FRAMES} frames of {NATOMS} atoms in {chunks} chunks of "
          f"{PER_CHUNK * frame_size / 1e6:.1f} MB took {took:.1f} s; died: {died}")


def compose_config(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([need("docker-compose"), "-f", str(path), "config"],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": str(path.parent), **env})


@pytest.mark.parametrize("path", ["docker-compose.yaml", "dev/docker-compose.yaml"])
def test_compose_files_validate_and_run_valid_commands(path):
    secrets = {"ZNDRAW_TOKEN": "t0ken", "REDIS_PASSWORD": "pw"}
    done = compose_config(DOCKER / path, **secrets)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    commands = [s["command"] for s in services.values()
                if s.get("image", "").startswith("zndraw-widget")]
    assert commands
    for command in commands:
        assert command[0] == "zndraw-widget"
        make_parser().parse_args(command[1:])  # exits (fails the test) if invalid
    dockerfile = (DOCKER / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    make_parser().parse_args(cmd[1:])


def test_production_compose_needs_its_secrets():
    for missing in ("ZNDRAW_TOKEN", "REDIS_PASSWORD"):
        env = {"ZNDRAW_TOKEN": "t0ken", "REDIS_PASSWORD": "pw"}
        del env[missing]
        done = compose_config(DOCKER / "docker-compose.yaml", **env)
        assert done.returncode != 0 and missing in done.stderr


def test_nginx_conf_keeps_the_port_and_streams_uploads():
    text = re.sub(r"#.*", "", (DOCKER / "nginx" / "nginx.conf").read_text())  # directives
    assert "proxy_set_header Host $http_host;" in text and "$host;" not in text
    assert "proxy_request_buffering off;" in text and "non_idempotent" not in text
    np.testing.assert_equal(re.findall(r"client_max_body_size (\d+)m;", text), ["500"])
