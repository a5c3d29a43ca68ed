"""Frames out: a room's frames written in any format ase writes, piece by piece.

:func:`export_format` checks the format asked for and tells how it is written:

- ``stream``: formats whose ase writer goes frame by frame into a plain stream
  (:data:`STREAMED`: extxyz, xyz, ...): frames are read in chunks and their text leaves as
  it is written; memory stays constant however long the room is.
- ``file``: other multi-frame formats (traj, H5MD, PDB, CIF, ...) need to seek, a file
  name or every frame at once: they are written to a temporary file, then sent; the frames
  they hold are limited like a read (``max_response_mb``).
- ``single``: formats that hold one frame (POSCAR, ...): the selection must be one frame.

:class:`Export` does the writing (blocking: it runs in a thread) and hands the output on in
pieces.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import BadRequest, PayloadTooLarge
from .formats import FormatError, ase_format, can
from .frames import FrameBatch

if TYPE_CHECKING:
    import ase

#: Formats whose ase writer iterates over the frames and writes to any stream.
STREAMED = frozenset({"extxyz", "xyz", "eon", "runnerdata", "vasp-xdatcar", "castep-md",
                      "castep-geom", "py"})
#: Formats written to a temporary file by writing ``ase.io.write`` an iterator of frames.
ITERATED = frozenset({"traj"})
#: Formats not written to one file (a directory, a database server).
NOT_FILES = frozenset({"bundletrajectory", "mysql", "postgresql"})
CHUNK_BYTES = 4 << 20  # frame data read per chunk
PIECE_BYTES = 1 << 20  # output handed on per piece
CONTENT_TYPES = {"json": "application/json", "cif": "chemical/x-cif",
                 "proteindatabank": "chemical/x-pdb", "znh5md": "application/x-hdf5"}


@dataclass(frozen=True)
class ExportFormat:
    """An ase format that can be exported, and how (see the module)."""

    name: str
    extension: str
    binary: bool
    mode: Literal["stream", "file", "single"]
    appendable: bool = False  # a file format ase appends to: written chunk by chunk

    @property
    def content_type(self) -> str:
        if self.name in CONTENT_TYPES:
            return CONTENT_TYPES[self.name]
        return "application/octet-stream" if self.binary else "text/plain; charset=utf-8"


def export_format(name: str | None) -> ExportFormat:
    """The format ``name`` (an ase format name, or ``h5md``), or :class:`BadRequest`
    naming the problem."""
    if not name:
        raise BadRequest("missing query argument 'format': name an ase format, e.g. "
                         "format=extxyz (streamed), traj, h5md, proteindatabank")
    try:
        io = ase_format(None, name, write=True)
    except FormatError:
        io = None
    if io is None or io.name in NOT_FILES:
        raise BadRequest(f"cannot export format {name!r}: name a format ase writes to a "
                         f"file, e.g. {', '.join(sorted(STREAMED))} (streamed) or traj, h5md",
                         format=name)
    mode = "single" if io.single else "stream" if io.name in STREAMED else "file"
    extension = io.extensions[0] if io.extensions else io.name
    return ExportFormat(io.name, extension, io.isbinary, mode, can(io, "append"))


def chunks(read: Callable[[Sequence[str]], FrameBatch], locations: Sequence[str],
           chunk_bytes: int = CHUNK_BYTES) -> Iterator[FrameBatch]:
    """The frames at ``locations`` read with ``read``, about ``chunk_bytes`` at a time (as
    many frames per chunk as fit at the largest frame size seen)."""
    start, largest = 0, 0
    while start < len(locations):
        count = 1 if not largest else max(1, chunk_bytes // largest)
        batch = read(locations[start:start + count])
        largest = max(largest, batch.nbytes // max(len(batch), 1), 1)
        start += len(batch)
        yield batch


class Cancelled(Exception):
    """The receiver of an export went away."""


class Export:
    """Write the frames at ``locations`` in ``fmt``; ``send(piece)`` takes each piece of
    output in order (it may block: that paces the writing; it raises :class:`Cancelled` to
    stop). ``limit`` bounds the frame bytes a non-streamed format holds (None: no bound)."""

    def __init__(self, fmt: ExportFormat, read: Callable[[Sequence[str]], FrameBatch],
                 locations: Sequence[str], send: Callable[[bytes], None],
                 limit: int | None = None) -> None:
        if fmt.mode == "single" and len(locations) != 1:
            raise BadRequest(f"format {fmt.name!r} holds one frame, the selection has "
                             f"{len(locations)}: pass one index, e.g. index=-1",
                             format=fmt.name, frames=len(locations))
        self.fmt, self.read, self.locations = fmt, read, locations
        self.send, self.limit = send, limit

    def atoms(self) -> Iterator[ase.Atoms]:
        """The frames as ``ase.Atoms``, read chunk by chunk."""
        for chunk in self.atom_chunks():
            yield from chunk

    def atom_chunks(self) -> Iterator[list[ase.Atoms]]:
        """The frames as lists of ``ase.Atoms``, one per chunk read; past ``limit`` frame
        bytes a non-streamed format is refused (413)."""
        total = 0
        for batch in chunks(self.read, self.locations):
            total += batch.nbytes
            if self.fmt.mode != "stream" and self.limit is not None and total > self.limit:
                raise PayloadTooLarge(
                    f"format {self.fmt.name!r} is written whole before it is sent, and these "
                    f"frames exceed max_response_mb = {self.limit / (1 << 20):g} MB: export "
                    f"fewer frames (index=start:stop) or a streamed format "
                    f"({', '.join(sorted(STREAMED))})", format=self.fmt.name)
            yield batch.to_atoms()

    def run(self) -> None:
        """Write everything (blocking)."""
        import ase.io

        if self.fmt.mode == "stream":
            with _Pieces(self.send) as out:
                ase.io.write(out, self.atoms(), format=self.fmt.name)
            return
        with tempfile.TemporaryDirectory(prefix="zndraw-export-") as folder:
            path = os.path.join(folder, f"export.{self.fmt.extension}")
            if self.fmt.mode == "single":
                ase.io.write(path, next(self.atoms()), format=self.fmt.name)
            elif self.fmt.name in ITERATED:
                ase.io.write(path, self.atoms(), format=self.fmt.name)
            elif self.fmt.appendable:
                for chunk in self.atom_chunks():
                    ase.io.write(path, chunk, format=self.fmt.name, append=True)
            else:  # the writer needs every frame at once
                ase.io.write(path, list(self.atoms()), format=self.fmt.name)
            if not os.path.exists(path):  # no frames
                return
            with open(path, "rb") as file:
                while piece := file.read(PIECE_BYTES):
                    self.send(piece)


class _Pieces:
    """A write-only stream (text or bytes) handing its output on in pieces of about
    :data:`PIECE_BYTES`."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self._send = send
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: str | bytes) -> int:
        part = data.encode() if isinstance(data, str) else bytes(data)
        self._parts.append(part)
        self._size += len(part)
        if self._size >= PIECE_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._parts:
            piece, self._parts, self._size = b"".join(self._parts), [], 0
            self._send(piece)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def __enter__(self) -> _Pieces:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.flush()
