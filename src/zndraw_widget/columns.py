"""One field of a batch of frames: numeric values stacked and padded, or plain values.

See :mod:`zndraw_widget.frames` for the frame model these make up.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .codec import ALLOWED_DTYPES
from .errors import BadRequest


@dataclass
class Column:
    """One field of B frames.

    Numeric: ``values`` (B, *max_shape), ``shapes`` (B, ndim) or ``None`` when every frame
    has the full shape. Other values: ``objects``, a list of B plain values. ``present`` (B,)
    marks the frames that have the field (``None``: all of them).
    """

    values: np.ndarray | None = None
    shapes: np.ndarray | None = None
    objects: list[Any] | None = None
    present: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.objects) if self.objects is not None else len(self.values)

    def has(self, row: int) -> bool:
        return self.present is None or bool(self.present[row])

    def shape(self, row: int) -> tuple[int, ...]:
        if self.shapes is None:
            return self.values.shape[1:]
        return tuple(int(s) for s in self.shapes[row])

    def get(self, row: int) -> Any:
        """The value of one frame (a numpy view, or a plain value)."""
        if self.objects is not None:
            return self.objects[row]
        value = self.values[row]
        if self.shapes is not None:
            value = value[tuple(slice(0, s) for s in self.shapes[row])]
        return value

    def rows(self) -> list[Any]:
        """Each frame's value, as :meth:`get` gives it; ``ABSENT`` where a frame lacks it."""
        if self.shapes is None and self.present is None:
            return list(self.objects if self.objects is not None else self.values)
        return [self.get(row) if self.has(row) else ABSENT for row in range(len(self))]

    def take(self, rows: np.ndarray | slice) -> Column:
        """The frames at ``rows`` (an integer array; a slice gives views)."""
        present = None if self.present is None else self.present[rows]
        if self.objects is not None:
            objects = self.objects[rows] if isinstance(rows, slice) else [
                self.objects[r] for r in rows]
            return Column(objects=objects, present=present)
        shapes = None if self.shapes is None else self.shapes[rows]
        return Column(values=self.values[rows], shapes=shapes, present=present)

    def copy(self) -> Column:
        """A copy sharing nothing with this column."""
        return Column(
            values=None if self.values is None else self.values.copy(),
            shapes=None if self.shapes is None else self.shapes.copy(),
            objects=None if self.objects is None else copy.deepcopy(self.objects),
            present=None if self.present is None else self.present.copy())

    @property
    def nbytes(self) -> int:
        """The bytes of its arrays, plus an estimate for plain values."""
        arrays = (self.values, self.shapes, self.present)
        return (sum(a.nbytes for a in arrays if a is not None)
                + (64 * len(self.objects) if self.objects is not None else 0))

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.objects is not None:
            wire["objects"] = self.objects
        else:
            wire["values"] = self.values
            if self.shapes is not None:
                wire["shapes"] = self.shapes
        if self.present is not None:
            wire["present"] = self.present
        return wire

    @classmethod
    def from_wire(cls, name: str, wire: Any) -> Column:
        if not isinstance(wire, dict):
            raise BadRequest(f"field {name!r}: expected a map with 'values' or 'objects'")
        unknown = set(wire) - {"values", "shapes", "objects", "present"}
        if unknown:
            raise BadRequest(f"field {name!r}: unknown keys {sorted(unknown)}")
        present = wire.get("present")
        if present is not None:
            present = _array(name, "present", present, ndim=1)
            if present.dtype != np.bool_:
                raise BadRequest(f"field {name!r}: 'present' must be a bool array")
        if "objects" in wire:
            if not isinstance(wire["objects"], list) or "values" in wire:
                raise BadRequest(f"field {name!r}: 'objects' must be a list (and alone)")
            column = cls(objects=wire["objects"], present=present)
        else:
            values = wire.get("values")
            if not isinstance(values, np.ndarray) or values.ndim < 1:
                raise BadRequest(f"field {name!r}: 'values' must be an array with a frame axis")
            shapes = wire.get("shapes")
            if shapes is not None:
                shapes = _array(name, "shapes", shapes, ndim=2)
                if shapes.dtype.kind not in "iu" or shapes.shape != (len(values), values.ndim - 1):
                    raise BadRequest(
                        f"field {name!r}: 'shapes' must be integers of shape "
                        f"({len(values)}, {values.ndim - 1})"
                    )
                if (shapes < 0).any() or (shapes > np.array(values.shape[1:])).any():
                    raise BadRequest(f"field {name!r}: a frame's shape exceeds the padded values")
                shapes = shapes.astype(np.int64)
            column = cls(values=values, shapes=shapes, present=present)
        if present is not None and len(present) != len(column):
            raise BadRequest(f"field {name!r}: 'present' has {len(present)} entries, not {len(column)}")
        return column


def _array(name: str, key: str, value: Any, ndim: int) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.ndim != ndim:
        raise BadRequest(f"field {name!r}: {key!r} must be a {ndim}-d array")
    return value


class _Absent:
    """The value of a field a frame does not have."""


ABSENT = _Absent()


def _as_numeric(value: Any) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "biuf" else None
    if isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, str):
        array = np.asarray(value)
        return array if array.dtype.kind in "biuf" else None
    return None


def stack(values: list[Any]) -> Column:
    """One column from the values of B frames (:data:`ABSENT` where a frame lacks the field)."""
    present = np.array([v is not ABSENT for v in values], dtype=bool)
    given = [v for v in values if v is not ABSENT]
    arrays = [_as_numeric(v) for v in given]
    numeric = all(a is not None for a in arrays) and len({a.ndim for a in arrays}) == 1
    if numeric:
        dtype = np.result_type(*arrays) if len({a.dtype for a in arrays}) > 1 else arrays[0].dtype
        if dtype.byteorder == ">":
            dtype = dtype.newbyteorder("<")
        numeric = dtype.str in ALLOWED_DTYPES
    if not numeric:
        objects = [None if v is ABSENT else _plain_value(v) for v in values]
        return Column(objects=objects, present=None if present.all() else present)
    shapes = np.array([a.shape for a in arrays], dtype=np.int64).reshape(len(arrays), -1)
    max_shape = tuple(shapes.max(axis=0)) if len(arrays) else ()
    uniform = (shapes == np.array(max_shape, dtype=np.int64)).all()
    if uniform and present.all():
        return Column(values=np.stack(arrays).astype(dtype, copy=False))
    stacked = np.zeros((len(values), *max_shape), dtype=dtype)
    all_shapes = np.zeros((len(values), len(max_shape)), dtype=np.int64)
    rows = np.flatnonzero(present)
    for row, array, shape in zip(rows, arrays, shapes):
        stacked[(row, *(slice(0, s) for s in shape))] = array
        all_shapes[row] = shape
    return Column(
        values=stacked,
        shapes=None if uniform else all_shapes,
        present=None if present.all() else present,
    )


def _plain_value(value: Any) -> Any:
    """A value msgpack can store: numpy values become lists or Python scalars."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def concat(name: str, parts: Sequence[Column | None], lengths: Sequence[int]) -> Column:
    """Field ``name`` of several batches one after the other: ``parts`` holds each batch's
    column (None where it lacks the field), ``lengths`` each batch's number of frames."""
    if any(p is not None and p.objects is not None for p in parts):
        objects: list[Any] = []
        present: list[bool] = []
        for part, length in zip(parts, lengths):
            for row in range(length):
                has = part is not None and part.has(row)
                present.append(has)
                objects.append(part.get(row) if has and part.objects is not None else
                               _plain_value(part.get(row)) if has else None)
        present_array = np.array(present, dtype=bool)
        return Column(objects=objects, present=None if present_array.all() else present_array)
    arrays = [p for p in parts if p is not None]
    dtype = np.result_type(*[p.values.dtype for p in arrays])
    ndim = max(p.values.ndim for p in arrays)
    if any(p.values.ndim != ndim for p in arrays):
        raise BadRequest(f"field {name!r} changes its number of dimensions between frames")
    max_shape = np.max([p.values.shape[1:] for p in arrays], axis=0)
    total = sum(lengths)
    values = np.zeros((total, *max_shape), dtype=dtype)
    shapes = np.zeros((total, ndim - 1), dtype=np.int64)
    present = np.zeros(total, dtype=bool)
    start = 0
    for part, length in zip(parts, lengths):
        stop = start + length
        if part is not None:
            values[(slice(start, stop), *(slice(0, s) for s in part.values.shape[1:]))] = part.values
            shapes[start:stop] = part.shapes if part.shapes is not None else part.values.shape[1:]
            present[start:stop] = True if part.present is None else part.present
        start = stop
    uniform = (shapes == max_shape).all()
    return Column(
        values=values,
        shapes=None if uniform else shapes,
        present=None if present.all() else present,
    )
