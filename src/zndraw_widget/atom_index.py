"""Atom indices, checked one way wherever they are given: a room's shared selection (the
server's check and ``Room.selection``), style groups and labels (:mod:`.look`) and
``Viewer.measurements``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import shown

#: Atom indices are below this (int32, as the browser keeps them).
MAX_ATOM_INDEX = 2**31 - 1
HOW = f"give integers from 0 (the first atom) to {MAX_ATOM_INDEX - 1}"


def atom_indices(value: Any, what: str, error: Callable[[str], Exception] = ValueError
                 ) -> np.ndarray:
    """``value`` (a list, tuple, range or 1-d integer array) as an int64 array of atom
    indices; else ``error`` with a message naming ``what``, the first bad entry, its place
    among the atoms given and what to give instead."""
    if (not isinstance(value, (list, tuple, range, np.ndarray))
            or isinstance(value, np.ndarray) and value.ndim != 1):
        kind = (f"a {value.ndim}-d array" if isinstance(value, np.ndarray)
                else "None" if value is None else type(value).__name__)
        raise error(f"{what}: a list of atom indices, not {kind}: {HOW} (a list, range or "
                    "integer array)")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged, or not numbers
        array = None
    first = None
    if array is not None and array.ndim == 1:
        if array.size == 0:
            return np.zeros(0, dtype=np.int64)
        # numpy holds True among integers as 1: a list's bools are refused by the walk below
        if array.dtype.kind in "iu" and not (isinstance(value, (list, tuple))
                                            and any(isinstance(x, bool) for x in value)):
            bad = np.flatnonzero((array < 0) | (array >= MAX_ATOM_INDEX))
            if not bad.size:
                return array.astype(np.int64, copy=False)
            first = int(bad[0])
    if first is None:  # the first entry that is no index (an error: rarely walked)
        first = next((k for k, x in enumerate(value) if not _is_index(x)), None)
    if first is None:  # integers numpy could not hold in one integer type
        return np.array([int(x) for x in value], dtype=np.int64)
    raise error(f"{what}: {shown(value[first])} (atom {first + 1} of the {len(value)} given) "
                f"is no atom index: {HOW}")


def _is_index(value: Any) -> bool:
    return (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            and 0 <= value < MAX_ATOM_INDEX)
