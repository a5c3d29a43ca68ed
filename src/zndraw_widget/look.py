"""The ``style`` and ``camera`` traits of ``Viewer``: their schema and checks.

The browser checks the style again (``js/renderer/look.ts``); here a bad value is refused when
it is set, with an error naming the key. The schema is documented in docs/widget.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .atom_index import atom_indices
from .errors import shown

REPRESENTATIONS = ("ball-and-stick", "spacefill", "licorice", "lines")
STYLE_KEYS = ("representation", "atom_scale", "bond_scale", "bonds", "groups", "labels")
GROUP_KEYS = ("atoms", "elements", "representation", "atom_scale", "bond_scale", "hidden")
LABEL_KEYS = ("text", "atoms", "size")
CAMERA_KEYS = ("position", "target", "up", "fov", "orthographic", "zoom")


class StyleError(ValueError):
    """A ``style`` or ``camera`` value the viewer cannot use (the message names the key)."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise StyleError(message)


def _keys(value: Any, allowed: tuple[str, ...], where: str) -> dict:
    _check(isinstance(value, dict), f"{where}: a dict, not {type(value).__name__}")
    for key in value:
        _check(key in allowed, f"{where}: unknown key {shown(key)} (known: {', '.join(allowed)})")
    return value


def _representation(value: Any, where: str) -> str:
    _check(value in REPRESENTATIONS,
           f"{where}: {shown(value)} is no representation ({', '.join(REPRESENTATIONS)})")
    return value


def _number(value: Any, where: str, low: float, high: float, what: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    _check(ok and low < value <= high, f"{where}: {what}, not {shown(value)}")
    return float(value)


def _scale(value: Any, where: str) -> float:
    return _number(value, where, 0, 10, "a number in (0, 10]")


def _indices(value: Any, where: str) -> list[int]:
    """A list of atom indices (a list, tuple, range or integer numpy array), as plain ints."""
    return atom_indices(value, where, StyleError).tolist()


def _bool(value: Any, where: str) -> bool:
    _check(isinstance(value, bool), f"{where}: True or False, not {shown(value)}")
    return value


def _group(value: Any, where: str) -> dict:
    from ase.data import chemical_symbols

    group = _keys(value, GROUP_KEYS, where)
    _check("atoms" in group or "elements" in group, f'{where}: needs "atoms" or "elements"')
    out: dict[str, Any] = {}
    if "atoms" in group:
        atoms = group["atoms"]
        out["atoms"] = ("selection" if isinstance(atoms, str) and atoms == "selection"
                        else _indices(atoms, f"{where}['atoms']"))
    if "elements" in group:
        elements = group["elements"]
        ok = isinstance(elements, (list, tuple)) and all(
            isinstance(e, str) and e in chemical_symbols[1:] for e in elements)
        _check(ok, f'{where}["elements"]: a list of element symbols ("H", "O", ...)')
        out["elements"] = list(elements)
    if "representation" in group:
        out["representation"] = _representation(group["representation"], f"{where}['representation']")
    for key in ("atom_scale", "bond_scale"):
        if key in group:
            out[key] = _scale(group[key], f"{where}[{key!r}]")
    if "hidden" in group:
        out["hidden"] = _bool(group["hidden"], f"{where}['hidden']")
    return out


def _labels(value: Any) -> dict | None:
    if value is None:
        return None
    labels = _keys(value, LABEL_KEYS, "style['labels']")
    out: dict[str, Any] = {}
    if "text" in labels:
        text = labels["text"]
        _check(isinstance(text, str) and bool(text),
               "style['labels']['text']: 'element', 'index' or a per-atom array's name")
        out["text"] = text
    if "atoms" in labels:
        atoms = labels["atoms"]
        out["atoms"] = (atoms if isinstance(atoms, str) and atoms in ("all", "selection")
                        else _indices(atoms, "style['labels']['atoms']"))
    if "size" in labels:
        out["size"] = _number(labels["size"], "style['labels']['size']", 3.99, 200,
                              "pixels, 4 to 200")
    return out


def validate_style(value: Any) -> dict:
    """``value`` as the ``style`` trait keeps it (plain lists and numbers); raises
    :class:`StyleError` naming the first bad key."""
    style = _keys(value, STYLE_KEYS, "style")
    out: dict[str, Any] = {}
    if "representation" in style:
        out["representation"] = _representation(style["representation"],
                                                 "style['representation']")
    for key in ("atom_scale", "bond_scale"):
        if key in style:
            out[key] = _scale(style[key], f"style[{key!r}]")
    if "bonds" in style:
        out["bonds"] = _bool(style["bonds"], "style['bonds']")
    if "groups" in style:
        groups = style["groups"]
        _check(isinstance(groups, (list, tuple)), "style['groups']: a list of dicts")
        out["groups"] = [_group(g, f"style['groups'][{i}]") for i, g in enumerate(groups)]
    if "labels" in style:
        out["labels"] = _labels(style["labels"])
    return out


def _vector(value: Any, where: str) -> list[float]:
    array = np.asarray(value, dtype=object) if not isinstance(value, str) else np.asarray([])
    ok = array.shape == (3,) and all(
        isinstance(x, (int, float, np.number)) and not isinstance(x, bool) and math.isfinite(x)
        for x in array)
    _check(ok, f"{where}: three finite numbers, not {shown(value)}")
    return [float(x) for x in array]


def validate_camera(value: Any) -> dict:
    """``value`` as the ``camera`` trait and a bookmark's camera keep it (plain lists and
    floats); raises :class:`StyleError` naming the first bad key. Any subset of the keys
    may be given (the view keeps the others)."""
    camera = _keys(value, CAMERA_KEYS, "camera")
    out: dict[str, Any] = {}
    for key in ("position", "target", "up"):
        if key in camera:
            out[key] = _vector(camera[key], f"camera[{key!r}]")
    if "up" in out:
        _check(any(out["up"]), "camera['up']: not the zero vector")
    if "position" in out and "target" in out:
        _check(out["position"] != out["target"], "camera: 'position' and 'target' must differ")
    if "fov" in camera:
        out["fov"] = _number(camera["fov"], "camera['fov']", 0, 179, "degrees in (0, 179]")
    if "orthographic" in camera:
        out["orthographic"] = _bool(camera["orthographic"], "camera['orthographic']")
    if "zoom" in camera:
        out["zoom"] = _number(camera["zoom"], "camera['zoom']", 0, 1e4, "a number > 0")
    return out
