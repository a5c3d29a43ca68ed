"""The store's Lua scripts: ``lua/<name>.lua``, each run after the shared ``lua/prelude.lua``.

Each script's header names its ARGV, reply and failures. A script checks everything, then
changes everything and publishes its events, or fails with ``zdw <kind> <json details>``
and changes nothing; :func:`failure` turns that into the exception of
:class:`~zndraw_widget.state.failures.Failure` ``kind``, the one :class:`MemoryStore` raises.
"""

from __future__ import annotations

import json
from importlib.resources import files
from string import Template

import redis.asyncio
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from ..base import (
    EVENT_LOG_BYTES,
    EVENT_LOG_LENGTH,
    ORDER,
    PRESENTER,
    REMEMBERED_KEYS,
    SHARED_KINDS,
    frame_target,
)
from ..failures import Failure

# A lease key outlives its expiry by this much, so the sweeper can still report it; if no
# process sweeps, Redis drops it then.
LEASE_GRACE_MS = 60_000
# A script finding Lua's heap above this collects the garbage of the big one before it
GC_KB = 32 << 10

_CONSTANTS = {"EVENT_LOG_LENGTH": EVENT_LOG_LENGTH, "EVENT_LOG_BYTES": EVENT_LOG_BYTES,
              "GRACE_MS": LEASE_GRACE_MS, "ORDER": ORDER,
              "PRESENTER": PRESENTER, "FRAME": frame_target(""),
              "REMEMBERED_KEYS": REMEMBERED_KEYS, "GC_KB": GC_KB,
              "SHARED_KINDS": "{" + ", ".join(f"'{kind}'" for kind in SHARED_KINDS) + "}"}


def _sources() -> dict[str, str]:
    """Script name -> its full source: the prelude, then the script, constants filled in."""
    directory = files(__package__) / "lua"
    prelude = (directory / "prelude.lua").read_text()
    return {
        entry.name[: -len(".lua")]: Template(prelude + "\n" + entry.read_text())
        .substitute(_CONSTANTS)
        for entry in directory.iterdir()
        if entry.name.endswith(".lua") and entry.name != "prelude.lua"
    }


SOURCES = _sources()


def register(client: redis.asyncio.Redis) -> dict[str, AsyncScript]:
    """Every script registered with ``client``: calls run EVALSHA, loading it on NOSCRIPT."""
    return {name: client.register_script(source) for name, source in SOURCES.items()}


def failure(error: ResponseError) -> Exception:
    """The exception for a script's ``zdw <kind> <json>`` failure (others pass unchanged)."""
    text = str(error)
    if not text.startswith("zdw "):
        return error
    kind, _, rest = text[4:].partition(" ")
    details, _ = json.JSONDecoder().raw_decode(rest)  # Redis appends the script's name
    return Failure(kind).error(**details)
