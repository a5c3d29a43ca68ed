"""Several standalone server processes sharing one real Redis and one storage path."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from tornado import httpclient, websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import ServerProcess, make_atoms
from .test_control import Control


@pytest.fixture
def two_servers(tmp_path, own_redis):
    env = {"ZNDRAW_REDIS_URL": own_redis}
    storage = tmp_path / "shared"
    first = ServerProcess(storage, env=env)
    second = ServerProcess(storage, env=env)
    yield first, second
    first.stop()
    second.stop()


async def call(server: ServerProcess, method: str, path: str, body=None, session="s", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = await httpclient.AsyncHTTPClient().fetch(
        server.url + path + ("?" + query if query else ""), method=method, body=body,
        headers={**server.headers, "X-ZnDraw-Session": session}, raise_error=False,
        allow_nonstandard_methods=True)
    return response


def test_two_processes_see_each_others_writes_and_events(two_servers, tmp_path):
    first, second = two_servers
    room = f"shared-{tmp_path.name}"

    async def scenario():
        created = await call(first, "POST", "rooms", json.dumps({"name": room, "base": None}))
        assert created.code == 201
        watcher = await Control(await websocket.websocket_connect(httpclient.HTTPRequest(
            second.url.replace("http", "ws") + "ws?session=watcher", headers=second.headers))
        ).start()
        assert (await watcher.request("join_room", room=room))["ok"]

        atoms = make_atoms(3)
        written = await call(first, "POST", f"rooms/{room}/frames",
                             codec.encode(FrameBatch.from_atoms(atoms).to_wire()),
                             base_version=0)
        assert written.code == 201
        event = await watcher.event(lambda e: e["type"] == "frames_inserted")
        assert event["indices"] == [0, 1, 2]

        # The other process reads the data the first one stored.
        read = await call(second, "GET", f"rooms/{room}/frames")
        assert FrameBatch.from_wire(codec.decode(read.body)).to_atoms() == atoms

        # A lease taken through one process guards writes through the other.
        taken = await call(second, "POST", f"rooms/{room}/leases/order",
                           json.dumps({"ttl": 30}), session="alice")
        assert taken.code == 200
        refused = await call(first, "DELETE", f"rooms/{room}/frames", index="0",
                             base_version=1, session="bob")
        assert refused.code == 423 and json.loads(refused.body)["holder"] == "alice"

        # An edit through the second process reaches the first's data and version.
        moved = atoms[1].positions + 2.0
        patch = codec.encode({"data": {"positions": {"values": moved[None]}}})
        patched = await call(second, "PATCH", f"rooms/{room}/frames/1", patch, base_version=1)
        assert patched.code == 200
        back = codec.decode((await call(first, "GET", f"rooms/{room}/frames", index="1")).body)
        np.testing.assert_allclose(FrameBatch.from_wire(back).frame(0)["positions"], moved)
        assert list(back["versions"]) == [2]

        # A selection and a bookmark set through one process reach the other's views.
        selected = await call(first, "PUT", f"rooms/{room}/selection",
                              json.dumps({"atoms": [2, 0]}))
        assert selected.code == 200
        event = await watcher.event(lambda e: e["type"] == "selection")
        assert event["value"] == [2, 0]
        marked = await call(first, "PUT", f"rooms/{room}/bookmarks/end", json.dumps({"frame": 2}))
        assert marked.code == 200
        assert (await watcher.event(lambda e: e["type"] == "bookmark"))["key"] == "end"
        listed = json.loads((await call(second, "GET", f"rooms/{room}/bookmarks")).body)
        assert listed == {"bookmarks": {"end": {"frame": 2, "camera": None}}}
        watcher.close()

    asyncio.run(scenario())
