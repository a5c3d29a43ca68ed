"""Turning ase.Atoms (or frame dicts) into request bodies, batch by batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import codec
from ..frames import Frame, FrameBatch, atoms_to_frame

if TYPE_CHECKING:
    from tqdm import tqdm

SHOW_PROGRESS_BYTES = 64 << 20  # a progress bar appears once an upload passes this size


def to_frame(value: Any) -> Frame:
    """The fields of an ``ase.Atoms`` or a frame mapping; ``TypeError`` for anything else."""
    from ase import Atoms

    if isinstance(value, Atoms):
        return atoms_to_frame(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a Room holds ase.Atoms or frame dicts, not {type(value).__name__}")


def frame_bytes(frame: Frame) -> int:
    """About how many bytes ``frame`` takes on the wire."""
    return 64 + sum(v.nbytes for v in frame.values() if isinstance(v, np.ndarray))


def encode(frames: list[Frame], **extra: Any) -> bytes:
    """The request body for ``frames`` (and the ``extra`` keys of a splice);
    ``ValueError`` naming the problem if they are invalid."""
    message: dict[str, Any] = dict(extra)
    if frames or not extra:
        batch = FrameBatch.from_frames(frames)
        batch.validate()
        message.update(batch.to_wire())
    return codec.encode(message)


def splice_body(delete: slice | list[int] | None = None, update: Iterable[int] = (),
                insert: Iterable[int] = (), frames: list[Frame] | None = None) -> bytes:
    """The body of one splice (docs/protocol.md): positions travel as int64 arrays."""
    extra: dict[str, Any] = {"update": np.asarray(list(update), dtype=np.int64),
                             "insert": np.asarray(list(insert), dtype=np.int64)}
    if isinstance(delete, slice):
        extra["delete"] = ":".join("" if p is None else str(p)
                                   for p in (delete.start, delete.stop, delete.step))
    elif delete is not None:
        extra["delete"] = np.asarray(delete, dtype=np.int64)
    return encode(frames or [], **extra)


def batches(values: Iterable[Any], target_bytes: int) -> Iterator[list[Frame]]:
    """``values`` as lists of frames of about ``target_bytes`` each, read lazily."""
    frames: list[Frame] = []
    size = 0
    for value in values:
        frame = to_frame(value)
        frames.append(frame)
        size += frame_bytes(frame)
        if size >= target_bytes:
            yield frames
            frames, size = [], 0
    if frames:
        yield frames


class Progress:
    """A tqdm bar of frames uploaded (or another ``unit``): always (``show=True``), never
    (``False``), or once the transfer passes :data:`SHOW_PROGRESS_BYTES` (``None``)."""

    def __init__(self, total: int | None, show: bool | None, unit: str = "frame",
                 desc: str = "upload") -> None:
        self._total = total
        self._show = show
        self._unit, self._desc = unit, desc
        self._frames = 0
        self._bytes = 0
        self._bar: tqdm | None = None

    def update(self, frames: int, size: int) -> None:
        self._frames += frames
        self._bytes += size
        if self._bar is None and (self._show or (self._show is None
                                                 and self._bytes > SHOW_PROGRESS_BYTES)):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self._total, initial=self._frames - frames, unit=self._unit,
                             desc=self._desc, unit_scale=True)
        if self._bar is not None:
            self._bar.update(frames)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
