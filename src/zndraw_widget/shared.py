"""What a room shares besides its frames, checked: each user's selection of atoms and named
bookmarks (a frame and a camera). The store keeps them (``Store.set_shared``); the room
service checks every value here first (docs/protocol.md "Selection and bookmarks")."""

from __future__ import annotations

from typing import Any

import numpy as np

from .atom_index import atom_indices
from .errors import BadRequest, PayloadTooLarge
from .look import StyleError, validate_camera

SELECTION = "selection"
BOOKMARK = "bookmark"
#: Atoms one user's selection holds at most.
MAX_SELECTION = 100_000
MAX_NAME = 100


def check_selection(atoms: Any) -> list[int]:
    """``atoms`` as a selection: distinct atom indices in the order given."""
    if isinstance(atoms, list) and len(atoms) > MAX_SELECTION:
        raise PayloadTooLarge(f"a selection holds at most {MAX_SELECTION} atoms, not "
                              f"{len(atoms)}", limit=MAX_SELECTION)
    array = atom_indices(atoms, "'atoms'", BadRequest)
    _, first = np.unique(array, return_index=True)
    return array[np.sort(first)].tolist()


def check_bookmark_name(name: Any) -> str:
    """``name`` if it can name a bookmark: 1-100 printable characters."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or not name.isprintable():
        raise BadRequest(f"a bookmark's name must be 1-{MAX_NAME} printable characters")
    return name


def check_bookmark(value: Any, length: int) -> dict[str, Any]:
    """``value`` as a bookmark of a room of ``length`` frames: ``{"frame": int, "camera":
    the view's camera (:func:`check_camera`) or None}``."""
    if not isinstance(value, dict) or set(value) - {"frame", "camera"}:
        raise BadRequest("a bookmark is {\"frame\": <index>, \"camera\": {...} or null}")
    frame = value.get("frame")
    if type(frame) is not int or frame < 0:
        raise BadRequest("a bookmark's 'frame' must be a non-negative integer")
    if frame >= length:
        raise IndexError(f"frame {frame} out of range for a room of {length} frames")
    return {"frame": frame, "camera": check_camera(value.get("camera"))}


def check_camera(camera: Any) -> dict[str, Any] | None:
    """``camera`` if None or a camera as ``Viewer.camera`` takes it (the same check,
    :func:`.look.validate_camera`, and its messages): ``{"position": [x, y, z], "target":
    [...], "up": [...], "fov": 45, "orthographic": false, "zoom": 1}``, any of them."""
    if camera is None:
        return None
    try:
        return validate_camera(camera)
    except StyleError as error:
        raise BadRequest(str(error)) from None
