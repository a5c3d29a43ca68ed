"""A server whose disk fills up: a write is refused with 507 and changes nothing, and once
space is freed the server goes on, across a SIGKILL, without losing or reusing anything.

The storage is a real size-limited filesystem (a tmpfs mounted for the test; skipped where
mounting is not permitted)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import ServerProcess, make_atoms
from .test_standalone_process import call


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs at ``tmp_path/disk``."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` with one file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for block in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * block)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler


def files_in(disk: Path) -> set[str]:
    return {os.path.join(d, n) for d, _, names in os.walk(disk) for n in names} - {
        str(disk / "filler")}


def post(server: ServerProcess, atoms: list, base: int) -> tuple[int, dict]:
    body = codec.encode(FrameBatch.from_atoms(atoms).to_wire())
    status, reply = call(server, "POST", f"rooms/md/frames?base_version={base}", body)
    return status, json.loads(reply)


def room(server: ServerProcess) -> dict:
    status, reply = call(server, "GET", "rooms/md")
    assert status == 200
    info = json.loads(reply)
    return {key: info[key] for key in ("length", "seq", "order_version")}


def test_a_full_disk_refuses_writes_with_507_and_loses_nothing(small_disk):
    server = ServerProcess(small_disk)
    try:
        assert call(server, "POST", "rooms", json.dumps({"name": "md"}).encode())[0] == 201
        stored = make_atoms(300, natoms=10, seed=1)
        status, reply = post(server, stored, 0)
        assert status == 201, reply
        acknowledged, seqs = list(stored), [reply["seq"]]

        filler = fill(small_disk)
        before, files = room(server), files_in(small_disk)
        refused = {
            "content already stored (only the journal grows)": stored,
            "new content, one file": make_atoms(20, natoms=10, seed=2),
            "new content, zarr": make_atoms(40, natoms=3000, seed=3),
        }
        for what, atoms in refused.items():
            status, reply = post(server, atoms, before["order_version"])
            assert (status, reply["error"]) == (507, "insufficient_storage"), what
            assert room(server) == before, what
            assert files_in(small_disk) == files, what  # no partial segment left behind
        events = json.loads(call(server, "GET", f"rooms/md/events?since={before['seq']}")[1])
        assert events["events"] == [] and events["seq"] == before["seq"]

        filler.unlink()
        base = before["order_version"]
        for atoms in refused.values():
            status, reply = post(server, atoms, base)
            assert status == 201, reply
            acknowledged += atoms
            seqs.append(reply["seq"])
            base = reply["order_version"]
        server.kill()

        server = ServerProcess(small_disk)
        status, reply = call(server, "GET", "rooms/md/frames")
        assert status == 200
        assert FrameBatch.from_wire(codec.decode(reply)).to_atoms() == acknowledged
        assert room(server)["seq"] == seqs[-1]
        status, reply = post(server, make_atoms(1, seed=4), base)
        assert status == 201 and reply["seq"] > seqs[-1]
    finally:
        server.stop()
