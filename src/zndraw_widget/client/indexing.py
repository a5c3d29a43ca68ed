"""Room indices with a Python list's rules: ints, slices, and lists or arrays of ints."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

Key = int | slice | list[int]


def normalize(key: Any) -> Key:
    """An int, a slice of ints, or a list of ints; ``TypeError`` / ``ValueError`` as a list."""
    if isinstance(key, slice):
        parts = [key.start, key.stop, key.step]
        try:
            start, stop, step = (None if p is None else operator.index(p) for p in parts)
        except TypeError:
            raise TypeError("slice indices must be integers or None or have an __index__ "
                            "method") from None
        if step == 0:
            raise ValueError("slice step cannot be zero")
        return slice(start, stop, step)
    if isinstance(key, np.ndarray) and key.ndim == 1:
        if key.dtype.kind not in "iu":
            raise TypeError(f"Room indices must be integers, not an array of {key.dtype}")
        return key.tolist()
    if isinstance(key, list):
        try:
            return [operator.index(k) for k in key]
        except TypeError:
            raise TypeError("a list of Room indices must hold only integers") from None
    try:
        return operator.index(key)
    except TypeError:
        raise TypeError("Room indices must be integers, slices or lists of integers, not "
                        f"{type(key).__name__}") from None


def slice_text(key: slice) -> str:
    """``start:stop:step`` for the ``index`` query argument."""
    return ":".join("" if p is None else str(p) for p in (key.start, key.stop, key.step))


def list_text(indices: list[int]) -> str:
    return ",".join(map(str, indices))


def key_text(key: Key) -> str:
    """A normalized key (an int, a slice or a list of ints) as the ``index`` query argument."""
    if isinstance(key, slice):
        return slice_text(key)
    return list_text(key) if isinstance(key, list) else str(key)


def is_extended(key: slice) -> bool:
    """Whether assigning to ``key`` needs a sequence of the same length (as for a list)."""
    return key.step not in (None, 1)


def clamp_insert(index: int, length: int) -> int:
    """Where ``list.insert(index, x)`` puts ``x`` in a list of ``length``."""
    if index < 0:
        index += length
    return min(max(index, 0), length)
