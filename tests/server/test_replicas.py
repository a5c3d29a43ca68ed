"""Replicas that die and processes that stop: a killed process's sessions are dropped by
the others, a stopping one finishes the requests in flight."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from urllib.parse import urlsplit

import httpx

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import ServerProcess, make_atoms
from . import test_control
from .test_shutdown import TOKEN, control

GENEROUS = 60  # seconds: an upper bound for slow machines, never a wait


def create_room(server: ServerProcess, room: str) -> None:
    response = httpx.post(server.url + "rooms", json={"name": room, "base": None},
                          headers=server.headers)
    assert response.status_code == 201, response.text


async def watch_a_killed_holder(leaving: ServerProcess, staying: ServerProcess) -> None:
    watcher = await control(staying.url, "watcher")
    await watcher.request("join_room", room="r")
    holder = await control(leaving.url, "holder")
    assert (await holder.request("join_room", room="r"))["ok"]
    assert (await holder.request("lock_request", room="r", target="order", ttl=300))["ok"]
    await watcher.event(lambda e: e["type"] == "lease" and e["holder"] == "holder")
    await watcher.event(lambda e: e["type"] == "presence" and e["session"] == "holder")

    leaving.kill()  # SIGKILL: no goodbye; the lease would last 300 s, the presence 30 s
    released = await watcher.event(lambda e: e["type"] == "lease" and e["target"] == "order")
    assert released["holder"] is None and released["expired"] == "holder"
    await watcher.event(lambda e: e["type"] == "presence" and e["session"] == "holder"
                        and not e["present"])
    reader = await control(staying.url, "reader")
    joined = await reader.request("join_room", room="r")
    assert joined["leases"] == []
    assert {entry["session"] for entry in joined["presence"]} == {"watcher", "reader"}
    for client in (watcher, reader):
        client.close()


def test_a_killed_process_loses_its_sessions_leases_and_presence(tmp_path, own_redis,
                                                                  monkeypatch):
    monkeypatch.setattr(test_control, "TIMEOUT", GENEROUS)
    env = {"ZNDRAW_REDIS_URL": own_redis}
    staying = ServerProcess(tmp_path / "shared", env=env, token=TOKEN)
    leaving = ServerProcess(tmp_path / "shared", env=env, token=TOKEN)
    try:
        create_room(staying, "r")
        asyncio.run(watch_a_killed_holder(leaving, staying))
        staying.stop()
        assert "stopped without a goodbye" in staying.log()  # the survivor tells
    finally:
        leaving.stop()
        staying.stop()


def refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=GENEROUS).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_an_upload_in_flight_finish(tmp_path):
    server = ServerProcess(tmp_path / "storage", token=TOKEN)
    try:
        create_room(server, "r")
        body = codec.encode(FrameBatch.from_atoms(make_atoms(50)).to_wire())
        url = urlsplit(server.url)
        upload = socket.create_connection((url.hostname, url.port), timeout=GENEROUS)
        upload.sendall(
            f"POST {url.path}rooms/r/frames?base_version=0 HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\nAuthorization: token {TOKEN}\r\n"
            f"Content-Type: application/msgpack\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n".encode())
        assert upload.recv(1024).startswith(b"HTTP/1.1 100")  # the request is being served
        upload.sendall(body[: len(body) // 2])

        server.process.send_signal(signal.SIGTERM)
        while not refused(url.hostname, url.port):  # it stopped accepting
            pass
        upload.sendall(body[len(body) // 2 :])
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = upload.recv(65536)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 201")
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["count"] == 50
        upload.close()
        assert server.process.wait(GENEROUS) == 0
    finally:
        server.stop()
    restarted = ServerProcess(tmp_path / "storage", token=TOKEN)
    try:
        info = httpx.get(restarted.url + "rooms/r", headers=restarted.headers).json()
        assert info["length"] == 50
    finally:
        restarted.stop()
