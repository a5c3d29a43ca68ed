"""Shared fixtures: a real redis-server, stores, and small trajectories."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def start_redis(directory: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """Start ``redis-server`` on a unix socket in ``directory``; return (process, url)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server")
    socket = directory / "redis.sock"
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--dir", str(directory), "--save", "", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    for line in process.stdout:  # redis says when it accepts connections
        output.append(line)
        if "Ready to accept connections" in line:
            break
    else:
        pytest.fail("redis-server exited at start:\n" + "".join(output))
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe drained
    return process, f"unix://{socket}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait()


def make_atoms(count: int, natoms: int = 4, seed: int = 0):
    """``count`` small ase.Atoms with distinct positions, a cell and some extras."""
    import ase

    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        atoms = ase.Atoms(
            numbers=rng.integers(1, 20, natoms),
            positions=rng.random((natoms, 3)) * 5,
            cell=np.eye(3) * 5,
            pbc=[True, True, False],
        )
        atoms.info["step"] = i
        frames.append(atoms)
    return frames
