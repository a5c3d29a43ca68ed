"""Random list operations, run alike on a ``Room`` and on a Python list to compare them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from zndraw_widget import Room

from ..conftest import tags

Operation = tuple[str, Callable[[Any], Any]]


def assign_list(target, picks, values) -> None:
    """``target[picks] = values`` element-wise (numpy's rule) on a Room or a list."""
    if isinstance(target, Room):
        target[picks] = values
        return
    if len(values) != len(picks):
        raise ValueError("length mismatch")
    for pick in picks:
        target[pick]  # noqa: B018 (IndexError before anything changes)
    for pick, value in zip(picks, values):
        target[pick] = value


def random_operation(rng: random.Random, length: int, new: Callable[[], Any],
                     kinds: Sequence[str], steps: Sequence[int | None]) -> Operation:
    """One operation of a kind in ``kinds`` (with slice steps from ``steps``) as
    (description, function of a list-like); ``new`` makes a value to write."""
    i = rng.randint(-length - 2, length + 2)
    a, b = rng.randint(-length - 2, length + 2), rng.randint(-length - 2, length + 2)
    step = rng.choice(steps)
    kind = rng.choice(kinds)
    if kind == "append":
        value = new()
        return kind, lambda s: s.append(value)
    if kind == "insert":
        value = new()
        return f"insert({i})", lambda s: s.insert(i, value)
    if kind in ("extend", "iadd"):
        values = [new() for _ in range(rng.randint(0, 4))]
        if kind == "iadd":
            def iadd(s):
                s += values
            return kind, iadd
        return f"extend({len(values)})", lambda s: s.extend(values)
    if kind == "set":
        value = new()
        return f"[{i}] =", lambda s: s.__setitem__(i, value)
    if kind == "set_slice":
        values = [new() for _ in range(rng.randint(0, 4))]
        return f"[{a}:{b}] = {len(values)}", lambda s: s.__setitem__(slice(a, b), values)
    if kind == "set_ext":
        key = slice(a, b, step or 2)
        size = len(range(*key.indices(length)))
        values = [new() for _ in range(size + rng.choice([0, 0, 0, 1, -1]))]
        return f"[{key}] = {len(values)}", lambda s: s.__setitem__(key, values)
    if kind == "set_list":
        picks = [rng.randint(-length - 1, length) for _ in range(rng.randint(0, 4))]
        values = [new() for _ in range(len(picks) + rng.choice([0, 0, 0, 0, 1]))]
        return f"[{picks}] = {len(values)}", lambda s: assign_list(s, picks, values)
    if kind == "del":
        return f"del [{i}]", lambda s: s.__delitem__(i)
    if kind in ("del_slice", "del_ext"):
        key = slice(a, b, step if kind == "del_ext" else None)
        return f"del [{key}]", lambda s: s.__delitem__(key)
    if kind == "get":
        return f"[{i}]", lambda s: tags([s[i]])
    if kind == "get_slice":
        key = slice(a, b, step)
        return f"[{key}]", lambda s: tags(s[key])
    if kind == "get_list":
        picks = [rng.randint(-length, max(length - 1, 0)) for _ in range(3)] if length else []
        return f"[{picks}]", lambda s: tags(s[picks] if isinstance(s, Room) else [s[p] for p in picks])
    if kind == "pop":
        return f"pop({i})", lambda s: tags([s.pop(i)])
    if kind == "reverse":
        return kind, lambda s: s.reverse()
    if kind == "clear":
        return kind, lambda s: s.clear()
    raise ValueError(f"unknown operation {kind!r}")


def outcome(function: Callable[[Any], Any], target) -> tuple[str, Any]:
    """("ok", result) or ("error", the exception's type): how lists and rooms compare."""
    try:
        return "ok", function(target)
    except Exception as error:  # compared by type
        return "error", type(error)
