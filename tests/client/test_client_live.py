"""The Room's live parts against a real standalone server process: on_change events, the
frame cache, the room's step, reconnecting, and a Room inside a running event loop."""

from __future__ import annotations

import asyncio
import queue
import socket
import subprocess
import sys
import textwrap
import threading

import httpx
import pytest

from zndraw_widget import LockedError, Room

from ..conftest import ServerProcess, free_port, make_atoms, tagged, tags

pytestmark = pytest.mark.usefixtures("no_ambient_server")

WAIT = 30  # seconds any one awaited event may take (reconnecting backs off up to 5 s)


class Events:
    """An on_change callback queueing what it gets, and a way to wait for one kind."""

    def __init__(self, room: Room) -> None:
        self.queue: queue.Queue[dict] = queue.Queue()
        self.threads: set[str] = set()
        self.remove = room.on_change(self._put)

    def _put(self, event: dict) -> None:
        self.threads.add(threading.current_thread().name)
        self.queue.put(event)

    def next(self, kind: str, **match) -> dict:
        """The next event of ``kind`` (with the given fields); earlier others are dropped."""
        while True:
            event = self.queue.get(timeout=WAIT)
            if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event


class Requests:
    """Counts the HTTP requests a Room sends."""

    def __init__(self, room: Room) -> None:
        self.count = 0
        send = room._http.request

        def counted(*args, **kwargs):
            self.count += 1
            return send(*args, **kwargs)

        room._http.request = counted


def test_a_write_reaches_another_clients_callbacks(connect):
    a, b = connect(), connect()
    events, barrier = Events(b), Events(b)
    a.extend([tagged(0), tagged(1)])
    inserted = events.next("frames_spliced")
    assert inserted["inserted"] == [0, 1] and inserted["length"] == 2
    a[1] = tagged(2)
    updated = events.next("frame_updated")
    assert updated["frame"] == 1 and updated["seq"] == inserted["seq"] + 1
    events.remove()
    del a[0]
    barrier.next("frames_deleted")  # callbacks run in order: the removed one was skipped
    assert "frames_deleted" not in [event["type"] for event in events.queue.queue]
    assert all(name.startswith("zndraw-link-") for name in barrier.threads)


def test_repeated_reads_come_from_the_cache_until_a_write(connect):
    a, b = connect(), connect()
    events = Events(b)
    a.extend([tagged(k) for k in range(4)])
    events.next("frames_spliced")  # else it comes later and invalidates what b reads now
    requests = Requests(b)
    first = b[1]
    assert requests.count == 1
    assert b[1] == first and tags(b[1:3]) == [1, 2] and tags([b[-1]]) == [3]
    assert requests.count == 3  # a slice and -1 are new; b[1] came from the cache
    assert tags(b[1:3]) == [1, 2] and tags(b[[3, 1]]) == [3, 1] and tags([b[-3]]) == [1]
    assert requests.count == 3
    copy = b[1]
    copy.info["tag"] = 99  # what a read returns is the caller's own
    assert b[1].info["tag"] == 1 and requests.count == 3

    a[1] = tagged(10)  # another client: b sees it once the event arrived
    assert events.next("frame_updated")["frame"] == 1
    assert tags([b[1]]) == [10] and requests.count == 4
    assert tags([b[2]]) == [2] and requests.count == 4  # other frames stay cached

    a.insert(0, tagged(11))  # an insert moves every position
    events.next("frames_inserted")
    assert tags([b[1]]) == [0] and requests.count == 5

    b[1] = tagged(12)  # its own write: never stale, no event awaited
    assert tags([b[1]]) == [12]
    b.append(tagged(13))
    assert tags(b[-2:]) == [3, 13]


def test_step_is_shared_and_refused_while_another_presents(connect, server, room_name):
    a, b = connect(), connect()
    a.extend([tagged(k) for k in range(3)])
    assert a.step == b.step == 0
    events = Events(b)
    a.step = 2
    assert a.step == 2
    assert events.next("step")["step"] == 2 and b.step == 2
    b.step = -2
    assert b.step == 1 and events.next("step")["step"] == 1
    with pytest.raises(IndexError):
        a.step = 3

    presenter = {"Authorization": f"token {server.token}", "X-ZnDraw-Session": "presenter-x"}
    lease = f"{server.url}rooms/{room_name}/leases/presenter"
    httpx.post(lease, json={"ttl": 60}, headers=presenter).raise_for_status()
    with pytest.raises(LockedError, match="presenter-x is presenting") as raised:
        a.step = 0
    assert raised.value.holder == "presenter-x"
    assert b.step == 1
    httpx.delete(lease, headers=presenter).raise_for_status()
    a.step = 0
    assert events.next("step")["step"] == 0 and b.step == 0


def test_a_lost_connection_is_re_established_and_resynchronised(tmp_path, no_ambient_server):
    storage, port = tmp_path / "storage", free_port()
    server = ServerProcess(storage, "--port", str(port))
    try:
        room = Room.create("r", url=server.base, token=server.token)
        events = Events(room)
        room.extend([tagged(0), tagged(1)])
        events.next("frames_spliced")  # else it comes later and invalidates what is read now
        requests = Requests(room)
        assert tags([room[0]]) == [0] and tags([room[0]]) == [0] and requests.count == 1

        server.kill()
        # a write made while the room is away, through another process on the same storage
        elsewhere = ServerProcess(storage)
        with Room("r", url=elsewhere.base, token=elsewhere.token) as writer:
            writer[0] = tagged(5)
            writer.append(tagged(6))
        elsewhere.stop()
        server = ServerProcess(storage, "--port", str(port))

        updated = events.next("frame_updated")
        assert updated["frame"] == 0
        assert events.next("frames_inserted")["seq"] == updated["seq"] + 1
        resync = events.next("resync")
        assert resync["reload"] is False and resync["seq"] == updated["seq"] + 1
        assert tags([room[0]]) == [5] and tags(room) == [5, 1, 6]
        room.append(tagged(7))  # and it writes again
        assert events.next("frames_inserted")["length"] == 4
        room.close()
        assert not [t for t in threading.enumerate() if t.name == "zndraw-link-r"]
    finally:
        server.stop()


def test_an_upload_lands_once_though_its_server_is_killed_midway(tmp_path,
                                                                 no_ambient_server):
    storage, port = tmp_path / "storage", free_port()
    servers = [ServerProcess(storage, "--port", str(port))]

    def frames():
        for i in range(40):
            if i == 20:  # meanwhile the chunk before is uploading (chunks are pipelined)
                servers[-1].kill()
                servers.append(ServerProcess(storage, "--port", str(port)))
            yield tagged(i)

    try:
        with Room("r", url=servers[0].base, token=servers[0].token, batch_bytes=1,
                  create=True) as room:
            room.extend(frames())  # a chunk per frame, each retried until its server is back
            assert len(servers) == 2
            assert tags(room) == list(range(40))
    finally:
        servers[-1].stop()


def test_a_room_works_inside_a_running_event_loop(connect):
    other = connect()

    async def main() -> list[int]:
        room = connect()
        events = Events(room)
        room.append(tagged(0))
        room.step = 0
        other.append(tagged(1))  # heard although this loop is busy in this coroutine
        events.next("frames_inserted", length=2)
        await asyncio.sleep(0)
        return tags(room)

    assert asyncio.run(main()) == [0, 1]


def test_a_script_exits_without_closing_its_room(server):
    script = textwrap.dedent(f"""
        import ase
        from zndraw_widget import Room
        room = Room.create("exit", url={server.base!r}, token={server.token!r})
        room.append(ase.Atoms("H"))
        print(room.step, len(room))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1"]


def test_a_room_without_its_control_channel_still_reads_and_writes(server, room_name,
                                                                    monkeypatch):
    """A refused websocket (a proxy without websockets, say) does not hold Room() up for
    the connect timeout: it warns at once, and reads and writes still work."""
    from zndraw_widget.client import link

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    monkeypatch.setattr(link, "ws_url", lambda api_url, session: f"ws://127.0.0.1:{closed_port}/")
    with pytest.warns(RuntimeWarning, match="live updates .* unavailable"):
        room = Room.create(room_name, url=server.base, token=server.token)
    try:
        assert isinstance(room._link.error, OSError)  # settled by the refusal, not a timeout
        room.extend(make_atoms(3, natoms=4))
        assert len(room) == 3 and len(room[1]) == 4
    finally:
        room.close()
