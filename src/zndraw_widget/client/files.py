"""Trajectory files into rooms from the kernel (``Viewer(path)``, ``zndraw-widget open``):
the file is read frame by frame (:func:`~zndraw_widget.formats.iter_atoms`) and uploaded in
batches as it is read, never whole; a room made for it is deleted again if that fails."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AlreadyExists
from ..formats import iter_atoms
from ..state.base import check_room_name

if TYPE_CHECKING:
    from .room import Room

#: File suffixes that make a string a file name rather than a room name.
TRAJECTORY_SUFFIXES = frozenset({"xyz", "extxyz", "traj", "pdb", "cif", "h5", "h5md", "json",
                                 "gro", "dcd", "xtc", "trr", "psf", "db", "vasp", "poscar",
                                 "lammpstrj", "data", "sdf", "mol", "nc", "car", "xsf"})


def file_or_room(name: str | os.PathLike[str]) -> Path | str:
    """What ``Viewer(name)`` means: an existing file (a ``Path``), or a room name (``str``).

    A ``PathLike`` must be a file; a string is a file if one exists there, else a room name.
    A string that names no file and is no valid room name, or names no file but has a
    trajectory file's suffix (``run.xyz``), is an error saying so."""
    path = Path(name)
    if path.is_file():
        return path
    if not isinstance(name, str):
        raise FileNotFoundError(f"no such file: {str(name)!r} (in {os.getcwd()})")
    try:
        room = check_room_name(name)
    except ValueError as error:
        raise ValueError(f"{name!r} is neither an existing file (in {os.getcwd()}) nor a "
                         f"valid room name ({error})") from None
    if path.suffix.lstrip(".").lower() in TRAJECTORY_SUFFIXES:
        raise FileNotFoundError(
            f"no such file: {name!r} (in {os.getcwd()}); to show a room of that name, pass "
            f"room={name!r}")
    return room


@contextlib.contextmanager
def room_to_fill(name: str | None, url: str | None, token: str | None,
                 ephemeral: bool = False, unique: bool = False) -> Iterator[Room]:
    """A room to upload into: a new one (``viewer-<random>`` when ``name`` is None), or the
    existing room ``name`` (``unique``: a new ``<name>-<random>`` instead). If the ``with``
    block fails, a room made here is deleted again (an existing one keeps what it had:
    ``extend`` removes its partial upload)."""
    from .room import Room

    created = True
    try:
        room = Room.create(name or f"viewer-{secrets.token_hex(6)}", url=url, token=token,
                           ephemeral=ephemeral)
    except AlreadyExists:
        if unique:
            room = Room.create(f"{name}-{secrets.token_hex(3)}", url=url, token=token,
                               ephemeral=ephemeral)
        else:
            room, created = Room(name, url=url, token=token), False
    try:
        yield room
    except BaseException as error:
        if created:
            try:
                room.delete()
            except Exception as cleanup:
                error.add_note(f"the room {room.name!r} made for the upload stays: deleting "
                               f"it failed: {cleanup}")
        room.close()
        raise


def upload_file(room: Room, path: str | os.PathLike[str], *, format: str | None = None,
                topology: str | os.PathLike[str] | None = None, progress: bool | None = None,
                on_written: Callable[[int], None] | None = None) -> None:
    """Append the frames of the file at ``path`` to ``room``, read one at a time and sent
    in batches (:meth:`Room.extend`: a progress bar for long uploads, ``on_written`` after
    each batch). ``format`` and ``topology`` as for :func:`~zndraw_widget.formats.iter_atoms`."""
    room.extend(iter_atoms(path, format=format, topology=topology), progress=progress,
                on_written=on_written)
