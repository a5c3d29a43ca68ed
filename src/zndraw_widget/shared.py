"""What a room shares besides its frames, checked: each user's selection of atoms and named
bookmarks (a frame and a camera). The store keeps them (``Store.set_shared``); the room
service checks every value here first (docs/protocol.md "Selection and bookmarks")."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import BadRequest, PayloadTooLarge

SELECTION = "selection"
BOOKMARK = "bookmark"
#: Atoms one user's selection holds at most.
MAX_SELECTION = 100_000
#: Atom indices are below this (int32, as the browser keeps them).
MAX_ATOM_INDEX = 2**31 - 1
MAX_NAME = 100
#: A camera is a small JSON object: this many fields, each a number, a boolean or a list
#: of this many numbers.
MAX_CAMERA_FIELDS = 16


def check_selection(atoms: Any) -> list[int]:
    """``atoms`` as a selection: distinct atom indices in the order given."""
    if not isinstance(atoms, list):
        raise BadRequest("'atoms' must be a list of atom indices (non-negative integers)")
    if len(atoms) > MAX_SELECTION:
        raise PayloadTooLarge(f"a selection holds at most {MAX_SELECTION} atoms, not "
                              f"{len(atoms)}", limit=MAX_SELECTION)
    if not atoms:
        return []
    array = np.asarray(atoms)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise BadRequest("'atoms' must be a list of atom indices (non-negative integers)")
    if array.min() < 0 or array.max() >= MAX_ATOM_INDEX:
        raise BadRequest(f"atom indices must be between 0 and {MAX_ATOM_INDEX - 1}")
    _, first = np.unique(array, return_index=True)
    return array[np.sort(first)].tolist()


def check_bookmark_name(name: Any) -> str:
    """``name`` if it can name a bookmark: 1-100 printable characters."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or not name.isprintable():
        raise BadRequest(f"a bookmark's name must be 1-{MAX_NAME} printable characters")
    return name


def check_bookmark(value: Any, length: int) -> dict[str, Any]:
    """``value`` as a bookmark of a room of ``length`` frames: ``{"frame": int, "camera":
    small JSON object of numbers or None}``."""
    if not isinstance(value, dict) or set(value) - {"frame", "camera"}:
        raise BadRequest("a bookmark is {\"frame\": <index>, \"camera\": {...} or null}")
    frame = value.get("frame")
    if type(frame) is not int or frame < 0:
        raise BadRequest("a bookmark's 'frame' must be a non-negative integer")
    if frame >= length:
        raise IndexError(f"frame {frame} out of range for a room of {length} frames")
    return {"frame": frame, "camera": check_camera(value.get("camera"))}


def check_camera(camera: Any) -> dict[str, Any] | None:
    """``camera`` if it is None or a small JSON object of numbers (as the view's camera:
    ``{"position": [x, y, z], "target": [...], "up": [...], "fov": 45}``); kept as given."""
    if camera is None:
        return None
    problem = (f"'camera' must be an object of at most {MAX_CAMERA_FIELDS} fields, each a "
               f"number, a boolean or a list of at most {MAX_CAMERA_FIELDS} numbers")
    if not isinstance(camera, dict) or len(camera) > MAX_CAMERA_FIELDS:
        raise BadRequest(problem)
    for key, item in camera.items():
        items = item if isinstance(item, list) else [item]
        if not (isinstance(key, str) and 0 < len(key) <= 32 and len(items) <= MAX_CAMERA_FIELDS
                and (isinstance(item, bool) or all(_finite(x) for x in items))):
            raise BadRequest(problem, field=str(key)[:32])
    return camera


def _finite(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)
