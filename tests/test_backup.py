"""Backup and restore of a whole deployment, taken while a writer keeps appending, restored
into a fresh deployment of the other store kind and compared frame by frame."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zndraw_widget.backup import open_deployment, refs_in, restore_deployment
from zndraw_widget.settings import Settings
from zndraw_widget.state.base import SliceSpec

from .conftest import ServerProcess, start_redis, stop_process, tagged

ALL = SliceSpec(None, None, None)


def cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "zndraw_widget", *args], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def store_args(storage: Path, redis_url: str | None = None, prefix: str | None = None):
    args = ["--storage", str(storage)]
    if redis_url:
        args += ["--redis-url", redis_url, "--redis-prefix", prefix]
    return args


async def _view(settings: Settings) -> dict:
    """Every room as stored: frames (id, version, hash), kept history, events, undo records
    (locations left out: they differ between storages), and the hash of the data each
    current and kept version points at, read back from the storage."""
    store, storage = open_deployment(settings)
    try:
        state = await store.export_state()
        data = {}
        locations = sorted(refs_in(state))
        if locations:
            read = storage.read(locations).hashes()
            data = dict(zip(locations, read, strict=True))
        assert data == refs_in(state), "a version points at missing or different data"
        rooms = {}
        for room in state["rooms"]:
            resolved = await store.resolve(room["name"], ALL)
            rooms[room["name"]] = {
                "frames": [(r.id, r.version, r.hash) for r in resolved.refs],
                "history": {i: [(v, h) for v, h, _ in kept] for i, kept in room["history"].items()},
                "counters": (room["seq"], room["order_version"], room["step"]),
                "events": room["events"],
                "undo": {s: len(st["undo"]) for s, st in room["records"].items()},
            }
        return rooms
    finally:
        await store.close()


def view(settings: Settings) -> dict:
    return asyncio.run(_view(settings))


@pytest.fixture
def redis(tmp_path):
    process, url = start_redis(tmp_path)
    yield url
    stop_process(process)


def test_backup_during_writes_restores_everything_into_either_store(tmp_path, redis):
    from zndraw_widget import Room

    source = ServerProcess(tmp_path / "source", "--redis-url", redis, "--redis-prefix", "src:")
    rooms = [Room(f"room-{k}", url=source.base, token=source.token) for k in range(3)]
    try:
        for k, room in enumerate(rooms):  # versions, history and an undo record each
            room.extend([tagged(10 * k + i) for i in range(5)])
            room[0] = tagged(100 + k)
            room[1] = tagged(200 + k)
            room.undo()
        writing, under_way, stop = rooms[0], threading.Event(), threading.Event()
        appended = []

        def writer() -> None:
            while not stop.is_set() or len(appended) < 3:  # and a few after the backup
                writing.append(tagged(1000 + len(appended)))
                appended.append(len(writing))
                if len(appended) == 3:
                    under_way.set()

        thread = threading.Thread(target=writer)
        thread.start()
        assert under_way.wait(60)
        before = len(appended)
        backup_file = tmp_path / "deployment.zdwbak"
        cli("backup", "--to", str(backup_file), *store_args(tmp_path / "source", redis, "src:"))
        after = len(appended)
        stop.set()
        thread.join()
        appended.clear()
        thread = threading.Thread(target=writer)  # three more appends after the backup
        thread.start()
        thread.join()
    finally:
        for room in rooms:
            room.close()
        source.stop()
    backed_up = Settings(tmp_path / "source", redis, "src:")
    final = view(backed_up)

    # restore into the embedded store
    out = cli("restore", "--from", str(backup_file), *store_args(tmp_path / "embedded"))
    assert "3 rooms" in out
    embedded = view(Settings(tmp_path / "embedded"))
    assert set(embedded) == set(final)
    length = len(embedded["room-0"]["frames"])
    assert 5 + before <= length <= 5 + after < len(final["room-0"]["frames"])
    for name, room in embedded.items():  # the snapshot is the source at one moment
        assert room["frames"] == final[name]["frames"][: len(room["frames"])]
        if name != "room-0":  # the rooms nobody wrote to meanwhile: identical
            assert room == final[name]
    assert embedded["room-1"]["history"] and embedded["room-1"]["undo"]

    # a restore refuses a deployment that has rooms
    with pytest.raises(RuntimeError, match="empty"):
        asyncio.run(restore_deployment(Settings(tmp_path / "embedded"), backup_file))

    # back up the embedded deployment while its server runs, restore that into Redis
    server = ServerProcess(tmp_path / "embedded")
    try:
        second = tmp_path / "embedded.zdwbak"
        cli("backup", "--to", str(second), *store_args(tmp_path / "embedded"))
    finally:
        server.stop()
    cli("restore", "--from", str(second), *store_args(tmp_path / "redis-copy", redis, "copy:"))
    assert view(Settings(tmp_path / "redis-copy", redis, "copy:")) == embedded


def test_a_truncated_backup_is_refused(tmp_path):
    storage = tmp_path / "one"
    server = ServerProcess(storage)
    try:
        from zndraw_widget import Room

        room = Room("r", url=server.base, token=server.token)
        room.extend([tagged(i) for i in range(3)])
        room.close()
        cli("backup", "--to", str(tmp_path / "b"), *store_args(storage))
    finally:
        server.stop()
    data = (tmp_path / "b").read_bytes()
    (tmp_path / "cut").write_bytes(data[: len(data) - 20])
    done = subprocess.run([sys.executable, "-m", "zndraw_widget", "restore", "--from",
                           str(tmp_path / "cut"), *store_args(tmp_path / "two")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "truncated" in done.stderr
