"""Making writes durable: fsync of files and of the directories that name them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# fsyncs issued together share the filesystem's journal commits: one after another, the
# ~20 files and directories of a zarr segment cost 3x as much on ext4.
_fsyncs = ThreadPoolExecutor(16, thread_name_prefix="fsync")


def fsync(path: str | Path) -> None:
    """fsync the file or directory ``path`` (a directory: the entries created or renamed in it)."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if os.path.isdir(path) else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_all(paths: Iterable[str | Path]) -> None:
    """fsync every one of ``paths``, all at once; the first failure is raised."""
    for _ in _fsyncs.map(fsync, list(paths)):
        pass


def tree(path: Path) -> list[str]:
    """Every file and directory under directory ``path``, ``path`` included."""
    found = []
    for directory, _, files in os.walk(path):
        found += [os.path.join(directory, name) for name in files]
        found.append(directory)
    return found


def replace_file(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` durably and at once: the old file or the new, never a mix."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync(path.parent)
