"""The kernel's half of the comm transport against a real server process: the view's HTTP
requests and control messages reach the same handlers, answers and events come back as
custom messages with binary buffers."""

from __future__ import annotations

import queue

import msgpack
import pytest

from zndraw_widget import codec
from zndraw_widget.client import Endpoint
from zndraw_widget.comm_transport import CommTransport

from .conftest import make_atoms


@pytest.fixture
def transport(server):
    answers: queue.Queue = queue.Queue()
    endpoint = Endpoint(server.url, server.token, "the test server")
    comm = CommTransport(lambda: endpoint, lambda content, buffers: answers.put((content,
                                                                                 buffers)))
    yield comm, answers
    comm.close()


def answer(answers: queue.Queue, kind: str) -> tuple[dict, list[bytes]]:
    """The next answer of type ``kind`` (others before it are skipped)."""
    while True:
        content, buffers = answers.get(timeout=10)
        if content["type"] == kind:
            return content, buffers


def http(comm: CommTransport, request_id: int, method: str, path: str, body: bytes = b"",
         headers: dict | None = None) -> bool:
    return comm.handle({"type": "zndraw.http", "channel": "view", "id": request_id,
                        "method": method, "path": path,
                        "headers": {"X-ZnDraw-Session": "widget-test", **(headers or {})}},
                       [body] if body else [])


def test_reads_and_writes_go_through(connect, transport):
    room = connect()
    room.extend(make_atoms(3))
    comm, answers = transport
    assert http(comm, 1, "GET", f"rooms/{room.name}/frames?index=0:3&data=positions")
    content, buffers = answer(answers, "zndraw.http")
    assert (content["id"], content["status"], content["channel"]) == (1, 200, "view")
    assert content["headers"]["content-type"] == "application/msgpack"
    read = codec.decode(buffers[0])
    assert read["length"] == 3 and read["data"]["positions"]["values"].shape[0] == 3

    http(comm, 2, "GET", f"rooms/{room.name}")  # room info, as JSON
    content, buffers = answer(answers, "zndraw.http")
    assert content["status"] == 200 and b"\"length\": 3" in buffers[0]

    http(comm, 3, "POST", f"rooms/{room.name}/undo")  # a write: the test client's session
    content, buffers = answer(answers, "zndraw.http")
    assert content["status"] == 404  # the view's session has no change to undo
    assert b"not_found" in buffers[0]


def test_only_the_api_is_reachable(transport):
    comm, answers = transport
    for path in ("../login", "http://example.com/", "/etc/passwd"):
        http(comm, 1, "GET", path)
        content, buffers = answer(answers, "zndraw.http")
        assert content["status"] == 400 and b"below the zndraw API" in buffers[0]
    assert not comm.handle({"type": "credentials"}, [])  # the widget's own messages pass by


def test_control_channel_both_ways(connect, transport):
    room = connect()
    room.extend(make_atoms(2))
    comm, answers = transport
    comm.handle({"type": "zndraw.ws.open", "channel": "view", "id": 9,
                 "session": "widget-ws"}, [])
    assert answer(answers, "zndraw.ws.opened")[0]["id"] == 9
    hello = msgpack.unpackb(answer(answers, "zndraw.ws.message")[1][0])
    assert hello == {"type": "hello", "session": "widget-ws", "user": "token"}
    comm.handle({"type": "zndraw.ws.send", "channel": "view", "id": 10, "socket": 9},
                [msgpack.packb({"type": "join_room", "room": room.name, "id": 1})])
    while (reply := msgpack.unpackb(answer(answers, "zndraw.ws.message")[1][0]))["type"] != "reply":
        pass
    assert reply["ok"] and reply["room"]["length"] == 2
    room.append(make_atoms(1)[0])  # the kernel's edit reaches the view as an event
    while (event := msgpack.unpackb(answer(answers, "zndraw.ws.message")[1][0]))["type"] in (
            "presence", "lease"):
        pass
    assert event["type"] == "frames_inserted" and event["length"] == 3
    comm.handle({"type": "zndraw.ws.close", "channel": "view", "id": 11, "socket": 9}, [])
    http(comm, 12, "GET", "health")  # the transport goes on after a socket closed
    assert answer(answers, "zndraw.http")[0]["status"] == 200
