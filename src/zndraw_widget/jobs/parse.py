"""Parsing a piece of an uploaded file into a batch of frames (runs in a worker process).

A file is parsed in **pieces**, each one task for a parse process, committed in order:

- ``extxyz`` and ``xyz`` are split by bytes: a piece is a byte range whose ends are moved
  to the next frame start (:func:`frame_start`, the same answer in every process), so the
  pieces of a file cover it exactly and can be parsed in parallel;
- every other format ase reads is split by frames: a piece is a window of frame indices
  read with ``ase.io.iread(path, index=slice(...))`` (random access for ``traj``; formats
  whose ase reader reads the whole file re-read it per piece).

A piece that fails to parse returns the frames before the failure and where it failed
(frame and line within the piece; the job adds the pieces before it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest, ZnDrawError
from ..formats import FormatError, resolve_format
from ..frames import FrameBatch, atoms_to_frame
from .model import job_error

SPLIT_BY_BYTES = frozenset({"extxyz", "xyz"})


def upload_format(name: str, given: str | None) -> str:
    """The ase format reading the uploaded file ``name`` (``given``: ``?format=``, see
    :func:`~zndraw_widget.formats.resolve_format`); :class:`BadRequest` naming the format (or
    the name) otherwise."""
    try:
        return resolve_format(name, given,
                              hint="add ?format=<ase format> (e.g. extxyz, traj, pdb, h5md)")
    except FormatError as error:
        if given:
            raise BadRequest(f"unknown format {given!r}: ase reads none of that name; use "
                             "one of the formats ase reads", format=given,
                             formats=error.known) from None
        raise BadRequest(str(error), name=name) from None


@dataclass(frozen=True)
class Piece:
    """Bytes ``[start, stop)`` (moved to frame starts) or frames ``[start, stop)``."""

    by_bytes: bool
    start: int
    stop: int


@dataclass
class Parsed:
    """What a piece gave: its frames (None: none), how many, the lines it spans (byte
    pieces), where it really ended (bytes, after moving to a frame start), whether the file
    ended in it (frame pieces), the error that stopped it (frame/line within it), and
    ``retry``: parse it again once more of the file has arrived."""

    batch: FrameBatch | None
    frames: int
    lines: int = 0
    stop: int = 0
    end: bool = False
    error: dict[str, Any] | None = None
    retry: bool = False


class NeedMore(Exception):
    """A frame start lies past what has arrived of a file still being uploaded."""


def parse_piece(path: str, fmt: str, piece: Piece, size: int, complete: bool = True
                ) -> Parsed:
    """Parse ``piece`` of the file at ``path`` in format ``fmt``, of which ``size`` bytes
    have arrived (all of it if ``complete``). A byte piece whose end cannot be placed at a
    frame start yet (the upload is behind) gives ``retry``."""
    if piece.by_bytes:
        with open(path, "rb") as file:
            try:
                start = frame_start(file, piece.start, size, complete)
                stop = frame_start(file, piece.stop, size, complete)
            except NeedMore:
                return Parsed(None, 0, retry=True)
            file.seek(start)
            raw = file.read(max(stop - start, 0))
        try:
            text = raw.decode()
        except UnicodeDecodeError as error:
            return Parsed(None, 0, stop=stop, error=job_error(
                f"the file is not text (UTF-8): {error}", None, None))
        parsed = _parse_text(text, fmt)
        parsed.lines, parsed.stop = text.count("\n"), stop
        return parsed
    import ase.io
    from ase.io.formats import ioformats

    frames: list[dict[str, Any]] = []
    count = piece.stop - piece.start
    if ioformats[fmt].single:  # one frame per file: read with the first window
        if piece.start > 0:
            return Parsed(None, 0, end=True)
        piece, count = Piece(False, 0, 1), 1
    try:
        for atoms in ase.io.iread(path, index=slice(piece.start, piece.stop), format=fmt):
            frames.append(atoms_to_frame(atoms))
    except Exception as error:  # noqa: BLE001 (any reader's failure is the file's)
        return _batched(frames, job_error(_describe(error), len(frames), None))
    parsed = _batched(frames, None)
    parsed.end = len(frames) < count
    return parsed


def _parse_text(text: str, fmt: str) -> Parsed:
    """Parse the whole frames in ``text``; on failure, the frames before the failing one and
    the failing frame's index and first line (1-based)."""
    import ase.io

    frames: list[dict[str, Any]] = []
    try:
        for atoms in ase.io.iread(io.StringIO(text), index=":", format=fmt):
            frames.append(atoms_to_frame(atoms))
    except Exception as error:  # noqa: BLE001 (any reader's failure is the file's)
        return _failed(text, fmt, frames, error)
    return _batched(frames, None)


def _failed(text: str, fmt: str, frames: list[dict[str, Any]], error: Exception) -> Parsed:
    """``frames``, parsed from ``text`` before ``error``, and where it failed: at the first
    frame whose first line is not an atom count if that comes after them (ase checks every
    count before it yields a frame: the frames before it are parsed again), else at the
    frame after them."""
    parsed = len(frames)
    starts = list(_frame_starts(text))
    if starts and not starts[-1][2] and len(starts) - 1 > parsed:
        offset, line, _ = starts[-1]
        prefix = _parse_text(text[:offset], fmt)  # the frames before it parse on their own
        if prefix.error is None:
            prefix.error = job_error(_not_a_count(text, offset, line), len(starts) - 1, line)
        return prefix
    if parsed < len(starts):
        offset, line, is_count = starts[parsed]
        message = _describe(error) if is_count else _not_a_count(text, offset, line)
        return _batched(frames, job_error(message, parsed, line))
    return _batched(frames, job_error(_describe(error), parsed, None))


def _not_a_count(text: str, offset: int, line: int) -> str:
    return (f"line {line} should be the atom count that starts a frame, not "
            f"{text[offset:offset + 80].splitlines()[0]!r}")


def _frame_starts(text: str):
    """``(offset, line, is_count)`` of each frame's first line in xyz ``text``, up to the
    first that is no atom count (a walk over lines: only run for an error)."""
    offset, line = 0, 1
    while offset < len(text):
        end = text.find("\n", offset)
        header = text[offset:len(text) if end < 0 else end].strip()
        if not header:
            return
        yield offset, line, header.isdigit()
        if not header.isdigit():
            return
        for _ in range(int(header) + 2):
            newline = text.find("\n", offset)
            if newline < 0:
                return
            offset, line = newline + 1, line + 1


def _batched(frames: list[dict[str, Any]], error: dict[str, Any] | None) -> Parsed:
    if not frames:
        return Parsed(None, 0, error=error)
    try:
        batch = FrameBatch.from_frames(frames)
        batch.validate()
    except (ZnDrawError, TypeError, ValueError) as problem:
        return Parsed(None, 0, error=job_error(f"the frames cannot be stored: {problem}"))
    return Parsed(batch, len(frames), error=error)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def frame_start(file: io.BufferedReader, offset: int, size: int, complete: bool = True
                ) -> int:
    """The first offset at or after ``offset`` where an xyz frame starts (``size`` if none):
    a line holding only an atom count N, then a comment and N atom lines, then another
    count line or the end of the file. Of a file still arriving (not ``complete``) only the first ``size``
    bytes are read; :class:`NeedMore` if the answer lies beyond them."""
    if offset <= 0:
        return 0
    if offset >= size:
        if complete:
            return size
        raise NeedMore
    lines = _Lines(file, size, complete)
    lines.seek(offset - 1)
    lines.next()  # to the start of the next line (offset itself if a line starts there)
    while True:
        position = lines.position
        line = lines.next()
        if not line:
            return size
        count = line.strip()
        if count.isdigit() and _frame_follows(lines, int(count)):
            return position
        lines.seek(position + len(line))


class _Lines:
    """Whole lines of the first ``size`` bytes of ``file``; past them, the end of the file
    (``b""``) if the file is ``complete``, else :class:`NeedMore`."""

    def __init__(self, file: io.BufferedReader, size: int, complete: bool) -> None:
        self.file, self.size, self.complete = file, size, complete

    @property
    def position(self) -> int:
        return self.file.tell()

    def seek(self, offset: int) -> None:
        self.file.seek(offset)

    def next(self) -> bytes:
        line = self.file.readline(max(self.size - self.file.tell(), 0))
        if line.endswith(b"\n") or self.complete:
            return line
        raise NeedMore


def _frame_follows(lines: _Lines, count: int) -> bool:
    """Whether a comment line, ``count`` atom lines (a species and three coordinates at
    least: never a count or a number alone) and then the end of the file or the next
    frame's count line follow."""
    if not lines.next():
        return False
    for _ in range(count):
        if len(lines.next().split(None, 4)) < 4:
            return False
    following = lines.next().strip()
    return not following or following.isdigit()
