"""Files the job tests upload, written once per session; the job registries to test."""

from __future__ import annotations

import secrets

import ase.io
import pytest

from zndraw_widget.jobs.registry import MemoryJobs, RedisJobs

from .helpers import repeat_file, write_trajectory


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """A ~10 MB extxyz (energies, forces), its frames as ase reads them, and a ~100 MB one
    (it, 10 times)."""
    directory = tmp_path_factory.mktemp("files")
    trajectory = directory / "md.extxyz"
    write_trajectory(trajectory, 800, natoms=128)
    frames = ase.io.read(trajectory, ":")  # as ase reads it back (8 digits)
    large = directory / "large.extxyz"
    repeat_file(trajectory, large, 10)
    return trajectory, frames, large


@pytest.fixture(params=["memory", "redis"])
def registry(request):
    """A factory of empty job registries: in memory, and in the test's Redis."""
    if request.param == "memory":
        return MemoryJobs
    url = request.getfixturevalue("redis_url")
    return lambda: RedisJobs(url, f"test-{secrets.token_hex(4)}:")
