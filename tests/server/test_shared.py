"""Selections and bookmarks over HTTP and on the control channel, on both mounts: what a room
shares besides its frames, bad input refused with a JSON error naming the problem. Who may do
it: tests/server/test_access.py."""

from __future__ import annotations

import pytest

from zndraw_widget.shared import MAX_SELECTION

from ..conftest import make_atoms
from .test_control import connect  # noqa: F401 (a fixture)

CAMERA = {"position": [0.0, 1.5, 12], "target": [1, 1, 1], "up": [0, 1, 0], "fov": 45,
          "orthographic": False}


async def test_a_selection_is_shared_per_user_and_announced(api, connect):  # noqa: F811
    await api.create_room("r")
    await api.extend("r", make_atoms(2))
    watcher = await connect("watcher")
    joined = await watcher.request("join_room", room="r")
    assert joined["selections"] == {} and joined["bookmarks"] == {}
    reply = await api.json("PUT", "rooms/r/selection", json_body={"atoms": [3, 1, 3, 0]})
    assert reply["atoms"] == [3, 1, 0]  # duplicates dropped, the order kept
    user = reply["user"]
    event = await watcher.event(lambda e: e["type"] == "selection")
    assert (event["key"], event["value"], event["seq"]) == (user, [3, 1, 0], 1)
    assert await api.json("GET", "rooms/r/selection") == {"user": user,
                                                          "selections": {user: [3, 1, 0]}}
    await api.json("PUT", "rooms/r/selection", json_body={"atoms": []})
    assert (await api.json("GET", "rooms/r/selection"))["selections"] == {user: []}
    again = await connect("again")
    assert (await again.request("join_room", room="r"))["selections"] == {user: []}


@pytest.mark.parametrize(("body", "words"), [
    ({}, "'atoms': a list of atom indices, not None: give integers from 0"),
    ({"atoms": "1,2"}, "'atoms': a list of atom indices, not str"),
    ({"atoms": [1, -2]}, "'atoms': -2 (atom 2 of the 2 given) is no atom index: give integers "
                         "from 0 (the first atom) to 2147483646"),
    ({"atoms": [1, 2**31]}, "2147483648 (atom 2 of the 2 given) is no atom index"),
    ({"atoms": [1.5]}, "1.5 (atom 1 of the 1 given) is no atom index"),
    ({"atoms": [[1]]}, "[1] (atom 1 of the 1 given) is no atom index"),
    ({"atoms": [True]}, "True (atom 1 of the 1 given) is no atom index"),
    ({"atoms": ["a"]}, "'a' (atom 1 of the 1 given) is no atom index"),
])
async def test_a_bad_selection_is_refused(api, body, words):
    await api.create_room("r")
    error = await api.json("PUT", "rooms/r/selection", 400, json_body=body)
    assert error["error"] == "bad_request" and words in error["message"]
    assert (await api.json("GET", "rooms/r/selection"))["selections"] == {}


async def test_a_selection_is_bounded(api):
    await api.create_room("r")
    error = await api.json("PUT", "rooms/r/selection", 413,
                           json_body={"atoms": list(range(MAX_SELECTION + 1))})
    assert error["error"] == "payload_too_large" and error["limit"] == MAX_SELECTION
    await api.json("PUT", "rooms/r/selection", json_body={"atoms": list(range(MAX_SELECTION))})
    error = await api.json("PUT", "rooms/missing/selection", 404, json_body={"atoms": []})
    assert error["error"] == "not_found"


async def test_bookmarks_are_set_listed_announced_and_deleted(api, connect):  # noqa: F811
    await api.create_room("r")
    await api.extend("r", make_atoms(3))
    watcher = await connect("watcher")
    await watcher.request("join_room", room="r")
    # a name is URL-encoded in the path (jp_fetch encodes it itself, one part at a time)
    name, path = ("the start", "the start") if api.kind == "jupyter" else (
        "the start/end", "the%20start%2Fend")
    reply = await api.json("PUT", f"rooms/r/bookmarks/{path}",
                           json_body={"frame": 2, "camera": CAMERA})
    assert reply == {"name": name, "frame": 2, "camera": CAMERA}
    event = await watcher.event(lambda e: e["type"] == "bookmark")
    assert (event["key"], event["value"]) == (name, {"frame": 2, "camera": CAMERA})
    await api.json("PUT", "rooms/r/bookmarks/plain", json_body={"frame": 0})
    listed = await api.json("GET", "rooms/r/bookmarks")
    assert listed == {"bookmarks": {name: {"frame": 2, "camera": CAMERA},
                                    "plain": {"frame": 0, "camera": None}}}
    await api.json("DELETE", "rooms/r/bookmarks/plain", 204)
    event = await watcher.event(lambda e: e["type"] == "bookmark" and e["value"] is None)
    assert event["key"] == "plain"
    error = await api.json("DELETE", "rooms/r/bookmarks/plain", 404)
    assert "no bookmark 'plain'" in error["message"]
    assert list((await api.json("GET", "rooms/r/bookmarks"))["bookmarks"]) == [name]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({}, 400, "'frame' must be a non-negative integer"),
    ({"frame": -1}, 400, "'frame' must be a non-negative integer"),
    ({"frame": "1"}, 400, "'frame' must be a non-negative integer"),
    ({"frame": 5}, 404, "out of range"),
    ({"frame": 0, "colour": "red"}, 400, "a bookmark is"),
    # the checks and messages of Viewer.camera (look.validate_camera)
    ({"frame": 0, "camera": [1, 2]}, 400, "camera: a dict, not list"),
    ({"frame": 0, "camera": {"fov": "wide"}}, 400,
     "camera['fov']: degrees in (0, 179], not 'wide'"),
    ({"frame": 0, "camera": {"position": [1, 2, None]}}, 400,
     "camera['position']: three finite numbers, not [1, 2, None]"),
    ({"frame": 0, "camera": {"position": list(range(17))}}, 400,
     "camera['position']: three finite numbers, not [0, 1, 2, 3, 4, 5, ...]"),
    ({"frame": 0, "camera": {"eye": [0, 0, 1]}}, 400, "camera: unknown key 'eye' (known: "),
    ({"frame": 0, "camera": {"fov": {"deep": 1}}}, 400, "camera['fov']: degrees in (0, 179]"),
    ({"frame": 0, "camera": {"up": [0, 0, 0]}}, 400, "camera['up']: not the zero vector"),
    ({"frame": 0, "camera": {"position": [1, 1, 1], "target": [1, 1, 1]}}, 400,
     "camera: 'position' and 'target' must differ"),
])
async def test_a_bad_bookmark_is_refused(api, body, status, words):
    await api.create_room("r")
    await api.extend("r", make_atoms(2))
    error = await api.json("PUT", "rooms/r/bookmarks/b", status, json_body=body)
    assert words in error["message"], error
    assert (await api.json("GET", "rooms/r/bookmarks"))["bookmarks"] == {}


async def test_a_bad_bookmark_name_is_refused(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(1))
    for name in ("x" * 101, "a\x01b" if api.kind == "jupyter" else "a%01b"):
        error = await api.json("PUT", f"rooms/r/bookmarks/{name}", 400, json_body={"frame": 0})
        assert "printable characters" in error["message"]
