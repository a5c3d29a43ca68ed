"""Rooms shared between people: every endpoint and control message for every kind of caller
on a standalone server with a users file (one server for the module)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgpack
import numpy as np
import pytest
import websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch
from zndraw_widget.users import UsersFile

from ..conftest import ServerProcess, make_atoms

GRANTS = {"user:wri": "write", "user:rea": "read", "group:lab": "write"}
#: caller kind: (user, the room's grants, the caller's role in it)
CALLERS = {
    "owner": ("ann", GRANTS, "admin"),
    "write grant": ("wri", GRANTS, "write"),
    "read grant": ("rea", GRANTS, "read"),
    "group grant": ("gus", GRANTS, "write"),
    "everyone grant": ("nob", {**GRANTS, "*": "read"}, "read"),
    "none": ("nob", GRANTS, "none"),
    "server admin": ("root", GRANTS, "admin"),
    "no credentials": (None, GRANTS, None),
}
RANK = {"none": 0, "read": 1, "write": 2, "admin": 3}
STATUS = {"forbidden": 403, "not_found": 404, "locked": 423, "unauthorized": 401}
_rooms = itertools.count()


@pytest.fixture(scope="module")
def users(tmp_path_factory) -> dict[str, str]:
    """The users file's path under "file", and each user's token."""
    path = tmp_path_factory.mktemp("users") / "users.json"
    file = UsersFile(path)
    tokens = {name: file.add(name, groups) for name, groups in
              [("ann", ()), ("wri", ()), ("rea", ()), ("gus", ("lab",)), ("nob", ())]}
    tokens["root"] = file.add("root", admin=True)
    return {"file": str(path), **tokens}


@pytest.fixture(scope="module")
def server(tmp_path_factory, users):
    process = ServerProcess(tmp_path_factory.mktemp("access"), "--users", users["file"])
    yield process
    process.stop()


@pytest.fixture(scope="module")
def clients(server, users):
    """An HTTP client per user (and one without credentials, under None)."""
    made = {name: httpx.Client(base_url=server.url, timeout=30,
                               headers={"Authorization": f"token {users[name]}"})
            for name in ("ann", "wri", "rea", "gus", "nob", "root")}
    made[None] = httpx.Client(base_url=server.url, timeout=30)
    yield made
    for client in made.values():
        client.close()


def frame_body(seed: int = 0) -> bytes:
    return codec.encode(FrameBatch.from_atoms(make_atoms(1, seed=seed)).to_wire())


def positions_body() -> bytes:
    """A partial update: new positions for a frame of ``make_atoms``' four atoms."""
    return codec.encode({"data": {"positions": {"values": np.ones((1, 4, 3))}}})


def new_room(clients, grants: dict[str, str]) -> str:
    """A room of ann's holding one frame, with ``grants``."""
    ann = clients["ann"]
    room = f"shared-{next(_rooms)}"
    assert ann.post("rooms", json={"name": room, "base": None}).status_code == 201
    response = ann.post(f"rooms/{room}/frames", params={"base_version": 0}, content=frame_body(),
                        headers={"X-ZnDraw-Session": "setup"})  # nobody's undo in the tests
    assert response.status_code == 201
    assert ann.put(f"rooms/{room}/access", json={"grants": grants}).status_code == 200
    return room


_unchanged: dict[frozenset, str] = {}


def room_for(clients, grants: dict[str, str], operation: Operation, role: str | None) -> str:
    """A new room for a request that may change it, else one shared by such requests (a
    refused request changes nothing, as each test asserts)."""
    if role is not None and RANK[role] >= RANK[operation.needs] and operation.needs in (
            "write", "admin"):
        return new_room(clients, grants)
    key = frozenset(grants.items())
    if key not in _unchanged:
        _unchanged[key] = new_room(clients, grants)
    return _unchanged[key]


def state(clients, room: str) -> Any:
    """What a refused request must not change, as the owner sees it."""
    ann = clients["ann"]
    info = ann.get(f"rooms/{room}").json()
    frames = codec.decode(ann.get(f"rooms/{room}/frames").content)
    return (info, frames["ids"], list(frames["versions"]), ann.get(f"rooms/{room}/access").json(),
            ann.get(f"rooms/{room}/bookmarks").json())


def outcome(response: httpx.Response) -> str:
    """"ok", or the error code of the answer (checked against its status)."""
    if response.is_success:
        return "ok"
    code = response.json()["error"]
    assert response.status_code == STATUS.get(code, response.status_code), response.text
    return code


@dataclass
class Operation:
    needs: str  # the role it needs
    call: Callable[[httpx.Client, str], httpx.Response]
    allowed: tuple[str, str] = ("ok", "")  # the outcome, and words of its message, if allowed


HTTP = {
    "GET info": Operation("read", lambda c, r: c.get(f"rooms/{r}")),
    "GET frames": Operation("read", lambda c, r: c.get(f"rooms/{r}/frames")),
    "POST select": Operation("read", lambda c, r: c.post(f"rooms/{r}/select",
                                                         json={"index": [0]})),
    "GET history": Operation("read", lambda c, r: c.get(f"rooms/{r}/frames/0/history")),
    "GET events": Operation("read", lambda c, r: c.get(f"rooms/{r}/events",
                                                       params={"since": 0})),
    "GET access": Operation("read", lambda c, r: c.get(f"rooms/{r}/access")),
    "GET export": Operation("read", lambda c, r: c.get(f"rooms/{r}/export",
                                                       params={"format": "extxyz"})),
    "POST frames": Operation("write", lambda c, r: c.post(
        f"rooms/{r}/frames", params={"base_version": 1}, content=frame_body(1))),
    "PUT frame": Operation("write", lambda c, r: c.put(
        f"rooms/{r}/frames/0", params={"base_version": 1}, content=frame_body(2))),
    "PATCH frame": Operation("write", lambda c, r: c.patch(
        f"rooms/{r}/frames/0", params={"base_version": 1}, content=positions_body())),
    "DELETE frames": Operation("write", lambda c, r: c.delete(
        f"rooms/{r}/frames", params={"index": "0", "base_version": 1})),
    "POST undo": Operation("write", lambda c, r: c.post(f"rooms/{r}/undo"),
                           ("not_found", "nothing to undo")),
    "POST redo": Operation("write", lambda c, r: c.post(f"rooms/{r}/redo"),
                           ("not_found", "nothing to redo")),
    "POST lease": Operation("write", lambda c, r: c.post(f"rooms/{r}/leases/order", json={})),
    "DELETE lease": Operation("write", lambda c, r: c.delete(f"rooms/{r}/leases/order")),
    "GET selection": Operation("read", lambda c, r: c.get(f"rooms/{r}/selection")),
    # a reader shares their own selection: it changes no data
    "PUT selection": Operation("read", lambda c, r: c.put(f"rooms/{r}/selection",
                                                          json={"atoms": [0, 2]})),
    "GET bookmarks": Operation("read", lambda c, r: c.get(f"rooms/{r}/bookmarks")),
    "PUT bookmark": Operation("write", lambda c, r: c.put(f"rooms/{r}/bookmarks/start",
                                                          json={"frame": 0})),
    "DELETE bookmark": Operation("write", lambda c, r: c.delete(f"rooms/{r}/bookmarks/none"),
                                 ("not_found", "no bookmark")),
    "PUT access": Operation("admin", lambda c, r: c.put(
        f"rooms/{r}/access", json={"grants": {**GRANTS, "user:zed": "read"}})),
    "DELETE room": Operation("admin", lambda c, r: c.delete(f"rooms/{r}")),
}


def expected(operation: Operation, role: str | None) -> tuple[str, str]:
    if role is None:
        return "unauthorized", ""
    if RANK[role] >= RANK[operation.needs]:
        return operation.allowed
    if role == "none":
        return "not_found", "does not exist"  # exactly as a missing room
    return "forbidden", "read-only for you" if role == "read" else "admin"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", HTTP)
def test_http_endpoint_for_every_caller(clients, name, caller):
    user, grants, role = CALLERS[caller]
    operation = HTTP[name]
    room = room_for(clients, grants, operation, role)
    before = state(clients, room)
    response = operation.call(clients[user], room)
    code, words = expected(operation, role)
    assert outcome(response) == code, response.text
    if code != "ok":
        assert words in response.json()["message"]
    if code == "not_found" and role == "none":
        missing = clients[user].get("rooms/no-such-room")
        assert response.json()["message"] == missing.json()["message"].replace(
            "no-such-room", room)
    if code not in ("ok", "not_found") or role in (None, "none"):
        assert state(clients, room) == before


# -- the control channel ------------------------------------------------------------------
CONTROL = {
    "join_room": Operation("read", lambda c, r: c("join_room", room=r)),
    "leave_room": Operation("none", lambda c, r: c("leave_room", room=r)),
    "lock_request": Operation("write", lambda c, r: c("lock_request", room=r, target="order")),
    "lock_renew": Operation("write", lambda c, r: c("lock_renew", room=r, target="order"),
                            ("not_found", "no lease")),
    "lock_release": Operation("write", lambda c, r: c("lock_release", room=r, target="order")),
    "request_presenter_token": Operation(
        "write", lambda c, r: c("request_presenter_token", room=r)),
    "renew_presenter_token": Operation(
        "write", lambda c, r: c("renew_presenter_token", room=r), ("not_found", "no lease")),
    "release_presenter_token": Operation(
        "write", lambda c, r: c("release_presenter_token", room=r)),
    "set_room_frame": Operation("write", lambda c, r: c("set_room_frame", room=r, frame=0),
                                ("locked", "only the presenter")),
    "ping": Operation("none", lambda c, r: c("ping")),
}


class Control:
    """A synchronous control-channel client: ``control(type, **fields)`` is the reply."""

    def __init__(self, server: ServerProcess, token: str | None, session: str | None = None):
        query = f"?session={session}" if session else ""
        header = [f"Authorization: token {token}"] if token else []
        self.connection = websocket.create_connection(
            server.url.replace("http", "ws") + "ws" + query, header=header, timeout=10)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.hello = self.receive()

    def receive(self) -> dict:
        return msgpack.unpackb(self.connection.recv())

    def __call__(self, kind: str, **fields: Any) -> dict:
        request_id = next(self.ids)
        self.connection.send_binary(msgpack.packb({"type": kind, "id": request_id, **fields}))
        while True:
            message = self.receive()
            if message["type"] == "reply" and message["id"] == request_id:
                return message
            self.events.append(message)

    def close(self) -> None:
        self.connection.close()


def handshake_refusal(server, token, session=None) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        Control(server, token, session)
    return refused.value.status_code


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", CONTROL)
def test_control_message_for_every_caller(server, users, clients, name, caller):
    user, grants, role = CALLERS[caller]
    operation = CONTROL[name]
    room = room_for(clients, grants, operation, role)
    before = state(clients, room)
    if user is None:
        assert handshake_refusal(server, None) == 401
        return
    control = Control(server, users[user])
    try:
        reply = operation.call(control, room)
    finally:
        control.close()
    code, words = expected(operation, role)
    assert (reply["ok"], reply.get("error")) == (code == "ok", None if code == "ok" else code)
    assert words in reply.get("message", "")
    if code != "ok" or role == "none":
        assert state(clients, room) == before


# -- beyond the matrix --------------------------------------------------------------------
def test_the_room_list_holds_the_rooms_you_may_read_with_your_role(clients):
    private = new_room(clients, {})
    shared = new_room(clients, {"user:rea": "read"})
    public = new_room(clients, {"*": "read", "user:wri": "write"})

    def listed(user: str) -> dict[str, tuple[str, str]]:
        rooms = clients[user].get("rooms", params={"limit": 1000}).json()["rooms"]
        return {r["name"]: (r["owner"], r["role"]) for r in rooms
                if r["name"] in (private, shared, public)}

    assert listed("ann") == {private: ("ann", "admin"), shared: ("ann", "admin"),
                             public: ("ann", "admin")}
    assert listed("rea") == {shared: ("ann", "read"), public: ("ann", "read")}
    assert listed("wri") == {public: ("ann", "write")}
    assert listed("root") == listed("ann")
    page = clients["wri"].get("rooms", params={"limit": 1000}).json()
    assert page["total"] == len(page["rooms"])  # the total counts only the rooms listed
    info = clients["rea"].get(f"rooms/{shared}").json()
    assert (info["owner"], info["role"]) == ("ann", "read")


def test_anyone_creates_rooms_and_copies_only_what_they_may_read(clients):
    private = new_room(clients, {})
    readable = new_room(clients, {"user:rea": "read"})
    made = clients["nob"].post("rooms", json={"name": f"own-{next(_rooms)}", "base": None})
    assert made.status_code == 201
    assert (made.json()["owner"], made.json()["role"]) == ("nob", "admin")
    refused = clients["rea"].post("rooms", json={"name": f"copy-{next(_rooms)}",
                                                 "base": private})
    assert (refused.status_code, refused.json()["message"]) == (
        404, f"room {private!r} does not exist")
    copy = f"copy-{next(_rooms)}"
    response = clients["rea"].post("rooms", json={"name": copy, "base": readable})
    assert response.status_code == 201 and response.json()["length"] == 1
    assert clients["rea"].get(f"rooms/{copy}/access").json() == {
        "owner": "rea", "grants": {}, "role": "admin"}
    assert clients["ann"].get(f"rooms/{copy}").status_code == 404  # no grants copied


def test_server_wide_settings_need_a_server_admin(clients):
    room = new_room(clients, {})
    refused = clients["ann"].put("default-room", json={"name": room})
    assert refused.status_code == 403
    assert clients["ann"].get("default-room").json() == {"name": None}
    assert clients["root"].put("default-room", json={"name": room}).status_code == 200
    assert clients["ann"].get("default-room").json() == {"name": room}
    assert clients["root"].put("default-room", json={"name": None}).status_code == 200


def test_access_changes_are_checked_announced_and_may_hand_over_the_room(server, users,
                                                                          clients):
    room = new_room(clients, {"user:rea": "read"})
    bad = clients["ann"].put(f"rooms/{room}/access",
                             json={"grants": {"ben": "write", "user:rea": "owner"}})
    assert bad.status_code == 400
    assert (bad.json()["bad_keys"], bad.json()["bad_roles"]) == (["ben"], ["owner"])
    reader = Control(server, users["rea"])
    try:
        assert reader("join_room", room=room)["room"]["role"] == "read"
        new = {"owner": "wri", "grants": {"user:ann": "read"}}
        assert clients["ann"].put(f"rooms/{room}/access", json=new).json() == {
            **new, "role": "read"}
        while not any(e["type"] == "access" for e in reader.events):
            reader.events.append(reader.receive())
        event = next(e for e in reader.events if e["type"] == "access")
        assert (event["room"], event["owner"], event["grants"]) == (room, "wri", new["grants"])
    finally:
        reader.close()
    assert clients["rea"].get(f"rooms/{room}").status_code == 404  # no grant any more
    assert clients["wri"].get(f"rooms/{room}").json()["role"] == "admin"


def test_leases_and_presence_name_their_user(server, users, clients):
    room = new_room(clients, GRANTS)
    writer = Control(server, users["wri"], "wri-tab")
    try:
        assert writer("lock_request", room=room, target="order")["lease"]["user"] == "wri"
        joined = Control(server, users["rea"])
        try:
            reply = joined("join_room", room=room)
            assert [(x["holder"], x["user"]) for x in reply["leases"]] == [("wri-tab", "wri")]
            assert {p["user"] for p in reply["presence"]} == {"rea"}
        finally:
            joined.close()
    finally:
        writer.close()


def test_a_session_cannot_be_taken_over_by_another_user(server, users, clients):
    """bob (gus) naming alice's (wri's) session gets 403 and changes nothing of hers."""
    room = new_room(clients, GRANTS)
    alice = {"X-ZnDraw-Session": "alice-tab"}
    response = clients["wri"].post(f"rooms/{room}/frames", params={"base_version": 1},
                                   content=frame_body(5), headers=alice)
    assert response.status_code == 201
    assert clients["wri"].post(f"rooms/{room}/leases/frame:x1", json={"ttl": 60},
                               headers=alice).status_code == 200
    before = state(clients, room)
    for call in (lambda c: c.post(f"rooms/{room}/undo", headers=alice),
                 lambda c: c.delete(f"rooms/{room}/leases/frame:x1", headers=alice),
                 lambda c: c.post(f"rooms/{room}/frames", params={"base_version": 2},
                                  content=frame_body(6), headers=alice),
                 lambda c: c.post(f"rooms/{room}/undo",
                                  headers={"X-ZnDraw-Session": "user:wri"})):
        refused = call(clients["gus"])
        assert refused.status_code == 403, refused.text
        assert "belongs to another user" in refused.json()["message"]
    assert handshake_refusal(server, users["gus"], "alice-tab") == 403
    assert state(clients, room) == before
    assert clients["wri"].post(f"rooms/{room}/undo", headers=alice).status_code == 200


def test_the_python_client_shares_and_unshares(server, users, no_ambient_server):
    from zndraw_widget import Room
    from zndraw_widget.errors import Forbidden, NotFound

    name = f"client-{next(_rooms)}"
    with Room(name, url=server.base, token=users["ann"], create=True) as room:
        room.append(make_atoms(1)[0])
        assert room.access == {"owner": "ann", "grants": {}, "role": "admin"}
        room.share("wri", "write")
        room.share(group="lab", role="read")
        assert room.share(everyone="read")["grants"] == {
            "user:wri": "write", "group:lab": "read", "*": "read"}
        with Room(name, url=server.base, token=users["nob"]) as reader:
            assert reader.access["role"] == "read" and len(reader) == 1
            with pytest.raises(Forbidden, match="read-only for you: its owner ann"):
                reader.append(make_atoms(1)[0])
        room.unshare("wri")
        room.unshare(group="lab")
        assert room.unshare(everyone=True)["grants"] == {}
        with pytest.raises(TypeError):
            room.share("wri", group="lab", role="read")
    with pytest.raises(NotFound):
        Room(name, url=server.base, token=users["nob"])
