"""How much one request may ask of the room service: frames and atoms per write, bytes per
read (``max_frames_per_write``, ``max_atom_frames_per_write``, ``max_response_mb``; see
``docs/protocol.md``). A request over a limit is refused with 413 before it costs more."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PayloadTooLarge
from .frames import FrameBatch


@dataclass(frozen=True)
class Limits:
    """The limits (None: unbounded, as for a kernel's in-process rooms)."""

    frames_per_write: int | None = None
    atom_frames_per_write: int | None = None
    response_bytes: int | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(settings.max_frames_per_write, settings.max_atom_frames_per_write,
                   int(settings.max_response_mb * (1 << 20)))

    def check_write(self, batch: FrameBatch) -> None:
        """Refuse ``batch`` if it has too many frames, or atoms x frames."""
        frames = len(batch)
        if self.frames_per_write is not None and frames > self.frames_per_write:
            raise PayloadTooLarge(
                f"the write carries {frames} frames, more than max_frames_per_write = "
                f"{self.frames_per_write}: send fewer frames per request",
                frames=frames, max_frames_per_write=self.frames_per_write)
        atom_frames = frames * atoms_per_frame(batch)
        if self.atom_frames_per_write is not None and atom_frames > self.atom_frames_per_write:
            raise PayloadTooLarge(
                f"the write carries {atom_frames} atoms x frames, more than "
                f"max_atom_frames_per_write = {self.atom_frames_per_write}: send fewer frames "
                "per request", atom_frames=atom_frames,
                max_atom_frames_per_write=self.atom_frames_per_write)

    def check_response(self, nbytes: int) -> None:
        """Refuse a read whose response has (at least) ``nbytes``."""
        if self.response_bytes is not None and nbytes > self.response_bytes:
            limit_mb = self.response_bytes / (1 << 20)
            raise PayloadTooLarge(
                f"the response exceeds max_response_mb = {limit_mb:g} MB: read fewer frames "
                "at once (a slice start:stop, or a shorter index list) and page through the "
                "room", max_response_mb=limit_mb)

    def read(self, read: Callable[[Sequence[str]], FrameBatch], locations: Sequence[str]
             ) -> FrameBatch:
        """``read(locations)`` piece by piece, refused (:meth:`check_response`) once the
        frames read pass the limit: a piece holds as many frames as the budget left allows
        at the largest frame size seen, so no more than about the limit is ever held (and
        a selection repeating its first frame is refused at once)."""
        if self.response_bytes is None or len(locations) <= 1:
            batch = read(locations)
            self.check_response(batch.nbytes)
            return batch
        probe = read(locations[:1])  # the frame size to plan by
        self.check_response(probe.nbytes * locations.count(locations[0]))  # a repeated index
        largest, total, pieces, start = max(probe.nbytes, 1), 0, [], 0
        while start < len(locations):
            count = max(1, (self.response_bytes - total) // largest)
            piece = read(locations[start:start + count])
            total += piece.nbytes
            self.check_response(total)
            largest = max(largest, piece.nbytes // len(piece))
            pieces.append(piece)
            start += len(piece)
        return FrameBatch.concat(pieces)


def atoms_per_frame(batch: FrameBatch) -> int:
    """The largest per-frame axis of any of ``batch``'s arrays (its padded atom count)."""
    return max((column.values.shape[1] for column in batch.columns.values()
                if column.values is not None and column.values.ndim > 1), default=0)
