"""The websocket control channel, on both mounts, with real websockets."""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import os
import socket
import subprocess
import sys
import textwrap

import msgpack
import pytest
from tornado import httpclient, websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import ServerProcess, make_atoms

TIMEOUT = 10


class Control:
    """A control-channel client: requests get replies; events are queued in order."""

    def __init__(self, connection: websocket.WebSocketClientConnection) -> None:
        self.connection = connection
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.hello = None

    async def _read(self) -> dict | None:
        raw = await asyncio.wait_for(self.connection.read_message(), TIMEOUT)
        return None if raw is None else msgpack.unpackb(raw)

    async def start(self) -> Control:
        self.hello = await self._read()
        assert self.hello["type"] == "hello"
        return self

    async def request(self, kind: str, **fields) -> dict:
        request_id = next(self.ids)
        await self.connection.write_message(msgpack.packb({"type": kind, "id": request_id,
                                                           **fields}), binary=True)
        return await self.reply(request_id)

    async def reply(self, request_id) -> dict:
        while True:
            message = await self._read()
            assert message is not None, "connection closed"
            if message["type"] == "reply" and message["id"] == request_id:
                return message
            self.events.append(message)

    async def event(self, predicate) -> dict:
        """The first queued or arriving event matching ``predicate``."""
        for index, message in enumerate(self.events):
            if predicate(message):
                return self.events.pop(index)
        while True:
            message = await self._read()
            assert message is not None, "connection closed"
            if predicate(message):
                return message
            self.events.append(message)

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def connect(api, request, jp_asyncio_loop):
    """Open control connections to the server that ``api`` talks to; at the end, close them
    and wait until the server has cleaned up after each."""
    opened: list[Control] = []

    async def open_control(session: str | None = None) -> Control:
        params = {"session": session} if session else {}
        if api.kind == "jupyter":
            jp_ws_fetch = request.getfixturevalue("jp_ws_fetch")
            connection = await jp_ws_fetch("zndraw", "api", "ws", params=params)
        else:
            url = api._fetch.url.replace("http://", "ws://") + "ws"
            query = "&".join(f"{k}={v}" for k, v in params.items())
            connection = await websocket.websocket_connect(httpclient.HTTPRequest(
                url + ("?" + query if query else ""),
                headers={"Authorization": "token secret-token"}))
        control = await Control(connection).start()
        opened.append(control)
        return control

    yield open_control
    for control in opened:
        control.close()
    if api.kind == "jupyter":
        settings = request.getfixturevalue("jp_serverapp").web_app.settings
    else:
        settings = api._fetch.app.settings
    # the tests run in pytest-jupyter's loop: so does this wait
    jp_asyncio_loop.run_until_complete(asyncio.wait_for(settings["zndraw_hub"]().idle(), TIMEOUT))


async def test_two_clients_see_each_others_changes(api, connect):
    await api.create_room("r")
    alice, bob = await connect("alice"), await connect("bob")
    joined = await alice.request("join_room", room="r")
    assert joined["ok"] and joined["room"]["length"] == 0
    await bob.request("join_room", room="r")
    presence = await alice.event(lambda e: e["type"] == "presence" and e["session"] == "bob")
    assert presence["present"] is True

    await api.json("POST", "rooms/r/frames", 201, params={"base_version": 0},
                   body=codec.encode(FrameBatch.from_atoms(make_atoms(2)).to_wire()),
                   headers={"X-ZnDraw-Session": "alice"})
    for client in (alice, bob):
        event = await client.event(lambda e: e["type"] == "frames_inserted")
        assert event["indices"] == [0, 1] and event["seq"] == 1 and len(event["ids"]) == 2
    ids = (await api.read("r"))["ids"]
    await api.json("PATCH", "rooms/r/frames/1", params={"base_version": 1},
                   body=codec.encode({"data": {"positions": {"values": make_atoms(1)[0].positions[None] + 1}}}))
    event = await bob.event(lambda e: e["type"] == "frame_updated")
    assert (event["frame"], event["id"], event["version"], event["seq"]) == (1, ids[1], 2, 2)


async def test_a_join_asks_the_store_its_reads_at_once(api, connect, monkeypatch):
    """join_room's reads (the room, leases, presence, selections, bookmarks) do not wait for
    each other: each store call yields once, and all of them are under way together."""
    from zndraw_widget.state.memory import MemoryStore

    await api.create_room("r")
    under_way: list[str] = []
    most: list[int] = []

    def counted(name: str):
        method = getattr(MemoryStore, name)

        async def call(self, *args, **kwargs):
            under_way.append(name)
            most.append(len(under_way))
            await asyncio.sleep(0)  # a yield, as a store with a server to ask would
            try:
                return await method(self, *args, **kwargs)
            finally:
                under_way.remove(name)

        monkeypatch.setattr(MemoryStore, name, call)

    client = await connect("joiner")
    for name in ("room_info", "leases", "presence", "shared"):
        counted(name)
    joined = await client.request("join_room", room="r")
    assert joined["ok"] and joined["selections"] == {} and joined["bookmarks"] == {}
    assert [p["session"] for p in joined["presence"]] == ["joiner"]
    assert max(most) == 5  # room_info, leases, presence and the two kinds of shared


async def test_control_messages_are_sent_without_delay(api, connect, request):
    """The server's end of a control connection has TCP_NODELAY: a reply written right
    after an event is not held back until the client acknowledges the event."""
    import socket

    await connect("quick")
    if api.kind == "jupyter":
        settings = request.getfixturevalue("jp_serverapp").web_app.settings
    else:
        settings = api._fetch.app.settings
    [handler] = settings["zndraw_hub"]()._connections
    sock = handler.ws_connection.stream.socket
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_leases_and_presenter_token(api, connect):
    await api.create_room("r")
    await api.extend("r", make_atoms(4))
    alice, bob = await connect("alice"), await connect("bob")
    await alice.request("join_room", room="r")
    await bob.request("join_room", room="r")
    lease = await alice.request("lock_request", room="r", target="order", ttl=30)
    assert lease["ok"] and lease["lease"]["holder"] == "alice"
    event = await bob.event(lambda e: e["type"] == "lease" and e["target"] == "order")
    assert event["holder"] == "alice"
    refused = await bob.request("lock_request", room="r", target="order")
    assert not refused["ok"] and refused["error"] == "locked" and refused["holder"] == "alice"
    for kind in ("lock_renew", "lock_release"):
        reply = await bob.request(kind, room="r", target="order")
        assert not reply["ok"] and reply["error"] == "locked"
    # A write through HTTP by another session meets the lease.
    error = await api.json("POST", "rooms/r/frames", 423, params={"base_version": 1},
                           body=codec.encode(FrameBatch.from_atoms(make_atoms(1)).to_wire()),
                           headers={"X-ZnDraw-Session": "bob"})
    assert error["holder"] == "alice"

    reply = await bob.request("set_room_frame", room="r", frame=3)
    assert not reply["ok"] and reply["error"] == "locked"
    assert (await bob.request("request_presenter_token", room="r"))["ok"]
    assert not (await alice.request("request_presenter_token", room="r"))["ok"]
    refused = await bob.request("set_room_frame", room="r", frame=2**64 - 1)
    assert not refused["ok"] and refused["error"] == "index_out_of_range"
    assert (await bob.request("set_room_frame", room="r", frame=3))["ok"]
    step = await alice.event(lambda e: e["type"] == "step")
    assert (step["step"], step["holder"]) == (3, "bob")
    late = await connect("carol")
    assert (await late.request("join_room", room="r"))["room"]["step"] == 3
    assert (await bob.request("renew_presenter_token", room="r"))["ok"]
    assert (await bob.request("release_presenter_token", room="r"))["released"]


async def test_disconnect_releases_leases_and_presenter_at_once(api, connect):
    await api.create_room("r")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.request("join_room", room="r")
    await bob.request("join_room", room="r")
    assert (await alice.request("lock_request", room="r", target="order", ttl=300))["ok"]
    assert (await alice.request("request_presenter_token", room="r", ttl=300))["ok"]
    alice.close()
    released = set()
    while released != {"order", "presenter"}:
        event = await bob.event(lambda e: e["type"] == "lease" and e["holder"] is None)
        released.add(event["target"])
    gone = await bob.event(lambda e: e["type"] == "presence" and e["session"] == "alice")
    assert gone["present"] is False
    assert (await bob.request("lock_request", room="r", target="order"))["ok"]


async def test_http_lease_expires_and_the_room_hears_it(api, connect):
    await api.create_room("r")
    watcher = await connect("watcher")
    await watcher.request("join_room", room="r")
    await api.json("POST", "rooms/r/leases/order", json_body={"ttl": 0.3},
                   headers={"X-ZnDraw-Session": "kernel"})
    event = await watcher.event(lambda e: e["type"] == "lease" and e["holder"] is None)
    assert event["expired"] == "kernel" and event["target"] == "order"


@pytest.mark.parametrize("message, error", [
    (msgpack.packb({"type": "nope", "id": 1}), "unknown message type"),
    (b"\xc1\xc1garbage", "malformed msgpack"),
    (msgpack.packb([1, 2]), "a map with a string 'type'"),
    (msgpack.packb({"type": "join_room", "id": 1, "room": "../x"}), "invalid room name"),
    (msgpack.packb({"type": "join_room", "id": 1, "room": "missing"}), "does not exist"),
    (msgpack.packb({"type": "lock_request", "id": 1, "room": "r", "target": "all"}), "'target'"),
    (msgpack.packb({"type": "lock_request", "id": 1, "room": "r", "target": "order", "ttl": -1}), "'ttl'"),
    (msgpack.packb({"type": "set_room_frame", "id": 1, "room": "r", "frame": "x"}), "'frame'"),
    (msgpack.packb({"type": "ping", "id": 1, "pad": "x" * 70_000}), "exceeds"),
])
async def test_bad_messages_get_clear_errors_and_the_connection_stays(api, connect, message, error):
    await api.create_room("r")
    client = await connect("c")
    await client.connection.write_message(message, binary=True)
    reply = await client.event(lambda e: e["type"] == "reply")
    assert reply["ok"] is False and error in reply["message"]
    assert (await client.request("ping"))["ok"]
    assert (await api.json("GET", "rooms/r"))["leases"] == []


async def test_text_messages_are_refused(api, connect):
    client = await connect("c")
    await client.connection.write_message(json.dumps({"type": "ping"}))
    reply = await client.event(lambda e: e["type"] == "reply")
    assert reply["ok"] is False and "binary msgpack" in reply["message"]


async def test_a_flooding_client_is_throttled_not_the_server(api, connect):
    await api.create_room("r")
    flood = await connect("flood")
    other = await connect("other")
    for k in range(3000):
        flood.connection.write_message(msgpack.packb({"type": "ping", "id": k}), binary=True)
    limited = await flood.event(lambda e: e["type"] == "reply" and not e["ok"])
    assert limited["error"] == "rate_limited" and limited["id"] >= 1000
    assert (await other.request("join_room", room="r"))["ok"]
    assert (await api.json("GET", "health"))["status"] == "ok"


async def test_concurrent_writers_of_one_frame_exactly_one_wins(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(1), base=0)
    candidates = [make_atoms(1, seed=10 + k)[0] for k in range(8)]
    responses = await asyncio.gather(*(
        api.call("PUT", "rooms/r/frames/0", params={"base_version": 1},
                 body=codec.encode(FrameBatch.from_atoms([atoms]).to_wire()),
                 headers={"X-ZnDraw-Session": f"writer{k}"})
        for k, atoms in enumerate(candidates)))
    codes = [r.code for r in responses]
    assert sorted(codes) == [200] + [409] * 7
    winner = candidates[codes.index(200)]
    for response in responses:
        if response.code == 409:
            assert json.loads(response.body)["current_version"] == 2
    assert FrameBatch.from_wire(await api.read("r", "0")).to_atoms()[0] == winner


def test_killed_client_process_loses_its_leases(tmp_path):
    """A kernel that dies holding a lease over HTTP loses it after the TTL; one that dies
    holding it over the websocket loses it at once."""
    server = ServerProcess(tmp_path)
    script = textwrap.dedent(f"""
        import json, os, signal, sys, urllib.request
        from tornado import httpclient, ioloop, websocket
        import msgpack
        url, how = {server.url!r}, sys.argv[1]
        headers = {{"Authorization": "token {server.token}", "X-ZnDraw-Session": how}}
        if how == "http":
            request = urllib.request.Request(url + "rooms/r/leases/order", method="POST",
                data=json.dumps({{"ttl": 1}}).encode(), headers=headers)
            urllib.request.urlopen(request).read()
            os.kill(os.getpid(), signal.SIGKILL)
        async def main():
            ws = await websocket.websocket_connect(httpclient.HTTPRequest(
                url.replace("http", "ws") + "ws?session=ws", headers=headers))
            await ws.read_message()
            await ws.write_message(msgpack.packb({{"type": "lock_request", "id": 1,
                "room": "r", "target": "frame:abc", "ttl": 300}}), binary=True)
            await ws.read_message()
            os.kill(os.getpid(), signal.SIGKILL)
        ioloop.IOLoop.current().run_sync(main)
    """)

    async def scenario():
        created = await httpclient.AsyncHTTPClient().fetch(
            server.url + "rooms", method="POST", body=json.dumps({"name": "r", "base": None}),
            headers=server.headers)
        assert created.code == 201
        watcher = await Control(await websocket.websocket_connect(httpclient.HTTPRequest(
            server.url.replace("http", "ws") + "ws?session=watcher", headers=server.headers))
        ).start()
        await watcher.request("join_room", room="r")
        for how, target in (("http", "order"), ("ws", "frame:abc")):
            process = subprocess.run([sys.executable, "-c", script, how], timeout=60)
            assert process.returncode == -9
            taken = await watcher.event(
                lambda e, how=how: e["type"] == "lease" and e["holder"] == how)
            assert taken["target"] == target
            freed = await watcher.event(lambda e: e["type"] == "lease" and e["holder"] is None)
            assert freed["target"] == target
            assert ("expired" in freed) == (how == "http")
        watcher.close()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


# -- a client that does not keep up -----------------------------------------------------------
class SlowClient:
    """A websocket client on a socket that holds little and reads only when asked, so the
    server's writes back up (the server's socket for it is given a small send buffer too)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str, session: str) -> SlowClient:
        host, port = url.split("//")[1].split("/")[0].split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(f"GET /zndraw/api/ws?session={session} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nAuthorization: token secret-token\r\n\r\n"
                     .encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, message: dict) -> None:
        payload, mask = msgpack.packb(message), os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert len(payload) < 126
        self.writer.write(bytes([0x82, 0x80 | len(payload)]) + mask + masked)

    async def receive(self) -> dict | int:
        """The next message, or the close code."""
        first, second = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT)
        length = second & 0x7F
        if length >= 126:
            size = 2 if length == 126 else 8
            length = int.from_bytes(await self.reader.readexactly(size), "big")
        payload = await self.reader.readexactly(length)
        if first & 0x0F == 0x8:
            return int.from_bytes(payload[:2], "big")
        return msgpack.unpackb(payload)

    async def until_reply(self) -> dict:
        while (message := await self.receive())["type"] != "reply":
            pass
        return message


async def _slow_reader(api, session: str) -> tuple[SlowClient, object]:
    """A joined :class:`SlowClient` in room ``r``, and the server's connection for it."""
    client = await SlowClient.open(api._fetch.url, session)
    client.send({"type": "join_room", "id": 1, "room": "r"})
    assert (await client.until_reply())["ok"]
    hub = api._fetch.app.settings["zndraw_hub"]()
    (connection,) = [c for c in hub._connections if c.session == session]
    connection.ws_connection.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return client, connection


@pytest.mark.parametrize("api", ["standalone"], indirect=True)
async def test_a_reader_that_falls_behind_gets_every_event_in_order(api):
    await api.create_room("r")
    client, connection = await _slow_reader(api, "slow")
    for k in range(60):  # ~2.5 kB events, far more than the sockets hold
        await api.extend("r", make_atoms(100, seed=k), base=k)
    assert connection._draining is not None and len(connection.outbox)  # they waited
    seqs = []
    while len(seqs) < 60:
        message = await client.receive()
        if message["type"] == "frames_inserted":
            seqs.append(message["seq"])
    assert seqs == list(range(1, 61))
    await _close(api, client)


@pytest.mark.parametrize("api", ["standalone"], indirect=True)
async def test_a_reader_too_far_behind_is_closed_with_1008(api, monkeypatch):
    from zndraw_widget.hub import Outbox
    from zndraw_widget.server import control

    monkeypatch.setattr(control, "Outbox", functools.partial(Outbox, limit=20))
    await api.create_room("r")
    client, _ = await _slow_reader(api, "stalled")
    for k in range(60):
        await api.extend("r", make_atoms(100, seed=k), base=k)
    while isinstance(message := await client.receive(), dict):
        pass
    assert message == 1008
    await _close(api, client)


async def _close(api, client: SlowClient) -> None:
    """Close ``client`` and wait until the server has cleaned up after it."""
    client.writer.close()
    hub = api._fetch.app.settings["zndraw_hub"]()
    await asyncio.wait_for(hub.idle(), TIMEOUT)
