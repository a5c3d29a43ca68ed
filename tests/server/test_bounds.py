"""Bounded work for every request, from outside: a real server process (``ServerProcess``)
and a real redis-server. Refused requests get their status and leave the room as it was."""

from __future__ import annotations

import asyncio
import http.client as http_client
import json
import socket
from urllib.parse import urlsplit

import httpx
import msgpack
import pytest
from tornado import websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch
from zndraw_widget.hub import Outbox

from ..conftest import ServerProcess, make_atoms, start_redis, stop_process

MB = 1 << 20
LIMITS = ("--max-frames-per-write", "10", "--max-atom-frames-per-write", "2000",
          "--max-response-mb", "1")


@pytest.fixture(scope="module")
def bounded(tmp_path_factory):
    """A server process with small write and read limits."""
    process = ServerProcess(tmp_path_factory.mktemp("bounded"), *LIMITS)
    yield process
    process.stop()


@pytest.fixture
def http(bounded):
    with httpx.Client(base_url=bounded.url, headers=bounded.headers, timeout=60) as client:
        yield client


def body_of(atoms) -> bytes:
    return codec.encode(FrameBatch.from_atoms(atoms).to_wire())


def state(http: httpx.Client, room: str) -> tuple:
    info = http.get(f"rooms/{room}").json()
    read = codec.decode(http.get(f"rooms/{room}/frames").content, bounded=False)
    return info["length"], info["seq"], info["order_version"], info["step"], read["hashes"]


def new_room(http: httpx.Client, name: str, frames: int = 2, natoms: int = 4) -> tuple:
    assert http.post("rooms", json={"name": name, "base": None}).status_code == 201
    if frames:
        response = http.post(f"rooms/{name}/frames", params={"base_version": 0},
                             content=body_of(make_atoms(frames, natoms=natoms)))
        assert response.status_code == 201, response.text
    return state(http, name)


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status").read().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raw_request(url: str, head: str, body_bytes: int = 0) -> bytes:
    """Send ``head`` (and then up to ``body_bytes`` zeros while the server reads them) on a
    plain socket; what the server answered before it closed."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode())
        sent, chunk = 0, b"\0" * MB
        try:
            while sent < body_bytes:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the body
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


# -- before authentication -------------------------------------------------------------------
@pytest.mark.parametrize("path", ["zndraw/api/rooms", "zndraw/api/rooms/r/select",
                                  "zndraw/api/rooms/r/frames?base_version=0", "no/such/path"])
def test_an_unauthenticated_300_mb_body_is_answered_unread(bounded, path):
    before = rss_kb(bounded.process.pid)
    head = (f"POST /{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {300 * MB}\r\n\r\n")
    answer = raw_request(bounded.base, head, 300 * MB)
    expected = b"404" if path.startswith("no/") else b"401"
    assert answer.split(b"\r\n")[0].split(b" ")[1] == expected, answer[:200]
    assert rss_kb(bounded.process.pid) - before < 20 * 1024  # KB: the body was never held


def test_a_long_url_is_414_and_long_headers_431(bounded, http):
    parts = urlsplit(bounded.url)  # an 80 kB URL (httpx refuses to send one)
    connection = http_client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", parts.path + "rooms/r/frames?index=" + "1," * 40_000 + "1",
                       headers=bounded.headers)
    response = connection.getresponse()
    error = json.loads(response.read())
    assert response.status == 414 and error["error"] == "uri_too_long"
    assert "select" in error["message"]
    connection.close()
    response = http.get("health", headers={"X-Padding": "x" * 80_000})
    assert response.status_code == 431
    assert http.get("health").status_code == 200  # the server is fine


def test_the_token_is_never_logged(tmp_path):
    server = ServerProcess(tmp_path, token="do-not-log-this-token")
    try:
        for token in ("do-not-log-this-token", "a-wrong-token-to-hide"):
            httpx.get(server.url + "rooms/nope", params={"token": token})
        httpx.get(server.base + "no/such/page", params={"x": 1, "token": "a-wrong-token-to-hide"})
    finally:
        server.stop()
    requests = [line for line in server.log().splitlines() if "nope" in line or "no/such" in line]
    assert requests and all("[secret]" in line for line in requests), requests
    assert not any("do-not-log" in line or "a-wrong-token" in line for line in requests)


# -- caps on writes and reads ----------------------------------------------------------------
def test_writes_over_the_frame_caps_are_413_and_change_nothing(http):
    before = new_room(http, "caps")
    base = {"base_version": before[2]}
    response = http.post("rooms/caps/frames", params=base, content=body_of(make_atoms(11)))
    assert response.status_code == 413
    assert "max_frames_per_write = 10" in response.json()["message"]
    response = http.post("rooms/caps/frames", params=base,
                         content=body_of(make_atoms(2, natoms=1500)))
    assert response.status_code == 413
    assert "max_atom_frames_per_write = 2000" in response.json()["message"]
    response = http.put("rooms/caps/frames/0", params={"base_version": 1},
                        content=body_of(make_atoms(1, natoms=2001)))
    assert response.status_code == 413
    assert state(http, "caps") == before
    assert http.post("rooms/caps/frames", params=base,
                     content=body_of(make_atoms(10))).status_code == 201


def test_a_read_over_the_response_limit_is_413_naming_how_to_page(http):
    new_room(http, "reads", frames=1, natoms=1000)  # ~32 kB a frame
    assert http.post("rooms/reads/select", json={"index": [0] * 20}).status_code == 200
    response = http.post("rooms/reads/select", json={"index": [0] * 10_000})
    assert response.status_code == 413
    message = response.json()["message"]
    assert "max_response_mb = 1" in message and "start:stop" in message
    response = http.get("rooms/reads/frames", params={"index": ",".join(["0"] * 100)})
    assert response.status_code == 413


def test_an_empty_batch_changes_nothing(http):
    before = new_room(http, "empty")
    session = {"X-ZnDraw-Session": "empty-writer"}
    response = http.post("rooms/empty/frames", params={"base_version": before[2]},
                         content=codec.encode(FrameBatch({}, 0).to_wire()), headers=session)
    assert response.status_code == 201 and response.json()["count"] == 0
    assert state(http, "empty") == before
    assert http.get("rooms/empty/events", params={"since": before[1]}).json()["events"] == []
    assert http.post("rooms/empty/undo", headers=session).status_code == 404  # no record


@pytest.mark.parametrize("request_args", [
    ("GET", "rooms/strict/frames", {"params": {"index": "\u0661"}}),  # an Arabic-Indic 1
    ("GET", "rooms/strict/frames/\u0661/history", {}),
    ("POST", "rooms/strict/frames", {"params": {"base_version": "\u0661"}}),
    ("POST", "rooms/strict/leases/order", {"json": {"ttl": "5"}}),
    ("POST", "rooms/strict/leases/order", {"content": b'{"ttl": NaN}'}),
    ("POST", "rooms/strict/select", {"content": b'{"index": [Infinity]}'}),
])
def test_parsing_is_strict(http, request_args):
    if http.get("rooms/strict").status_code == 404:
        new_room(http, "strict")
    before = state(http, "strict")
    method, path, kwargs = request_args
    response = http.request(method, path, **kwargs)
    assert response.status_code in (400, 404), response.text
    assert state(http, "strict") == before


def test_set_room_frame_outside_the_room_is_refused(bounded, http):
    before = new_room(http, "steps")

    async def run():
        url = bounded.url.replace("http", "ws", 1) + f"ws?token={bounded.token}"
        connection = await websocket.websocket_connect(url)
        await connection.read_message()  # hello
        for id_, message in enumerate([{"type": "request_presenter_token", "room": "steps"},
                                       {"type": "set_room_frame", "room": "steps",
                                        "frame": 2**64 - 1},
                                       {"type": "set_room_frame", "room": "steps", "frame": 2}]):
            await connection.write_message(msgpack.packb({**message, "id": id_}), binary=True)
        replies = {}
        while len(replies) < 3:
            reply = msgpack.unpackb(await connection.read_message())
            if reply.get("type") == "reply":
                replies[reply["id"]] = reply
        connection.close()
        return replies

    replies = asyncio.run(run())
    assert replies[0]["ok"]
    assert [replies[1]["ok"], replies[1]["error"]] == [False, "index_out_of_range"]
    assert [replies[2]["ok"], replies[2]["error"]] == [False, "index_out_of_range"]
    assert state(http, "steps") == before


# -- queues by bytes ---------------------------------------------------------------------------
def test_the_outbox_is_bounded_by_bytes_and_coalesces_in_place():
    outbox = Outbox(limit=100, limit_bytes=10_000)
    big = {"type": "frames_inserted", "ids": ["x" * 1000] * 4}
    assert outbox.put(big) and outbox.put(big)
    assert not outbox.put(big)  # a third would pass 10,000 bytes
    step = {"type": "step", "room": "r", "step": 1}
    assert outbox.put(step) and outbox.put({**step, "step": 2})  # replaced, not added
    assert len(outbox) == 3 and outbox.nbytes == 2 * len(msgpack.packb(big)) + len(
        msgpack.packb({**step, "step": 2}))

    drained = [msgpack.unpackb(outbox.pop()) for _ in range(3)]
    assert [m["type"] for m in drained] == ["frames_inserted"] * 2 + ["step"]
    assert outbox.nbytes == 0


# -- the state backend goes away ---------------------------------------------------------------
def test_redis_down_is_503_and_service_resumes_after_restart(tmp_path):
    persist = ("--appendonly", "yes", "--appendfsync", "always")
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    redis, url = start_redis(redis_dir, *persist)
    server = ServerProcess(tmp_path / "storage", "--redis-url", url)
    client = httpx.Client(base_url=server.url, headers=server.headers, timeout=30)
    try:
        before = new_room(client, "kept")
        redis.kill()
        redis.wait()
        frames = body_of(make_atoms(1))
        for response in [client.get("health"), client.get("rooms/kept"),
                         client.get("rooms/kept/frames"),
                         client.post("rooms/kept/frames", params={"base_version": 1},
                                     content=frames),
                         client.post("rooms", json={"name": "new", "base": None})]:
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "backend_unavailable"

        async def join() -> dict:
            ws = server.url.replace("http", "ws", 1) + f"ws?token={server.token}"
            connection = await websocket.websocket_connect(ws)
            await connection.read_message()  # hello
            await connection.write_message(
                msgpack.packb({"type": "join_room", "room": "kept", "id": 1}), binary=True)
            reply = {}
            while reply.get("type") != "reply":  # (events of the room may come first)
                reply = msgpack.unpackb(await connection.read_message())
            connection.close()
            return reply

        reply = asyncio.run(join())
        assert [reply["ok"], reply["error"]] == [False, "backend_unavailable"]

        redis, _ = start_redis(redis_dir, *persist)  # the same socket, the same data
        assert client.get("health").status_code == 200
        assert state(client, "kept") == before
        assert client.post("rooms/kept/frames", params={"base_version": 1},
                           content=frames).status_code == 201
        assert asyncio.run(join())["ok"]
    finally:
        client.close()
        server.stop()
        stop_process(redis)

