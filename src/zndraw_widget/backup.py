"""Backup and restore of a whole deployment: every room's state and the frame data it
points at, in one file, restorable into an empty deployment of either store kind.

The state is one consistent snapshot (:meth:`Store.export_state`: one Lua script on
Redis, a lock-free read of the journal for the embedded store), taken while the servers
keep serving. Frame data is immutable and written before the commit that points at it,
so every location in the snapshot can be read afterwards; the data of each location is
copied once and checked against its content hash on restore (a frame never points at
missing or different data).

The file: ``MAGIC``, then records of an 8-byte little-endian length and a msgpack body
(:mod:`zndraw_widget.codec`): ``{"state": ...}``, then ``{"locations", "hashes",
"frames"}`` batches, then ``{"end": <number of locations>}`` (a truncated file is refused).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import codec
from .frames import FrameBatch
from .room_service import in_thread
from .settings import Settings
from .state import MemoryStore, Store, open_store
from .storage import DataProvider, ZarrProvider

MAGIC = b"ZNDRAW-WIDGET-BACKUP 1\n"
_LENGTH = struct.Struct("<Q")
BATCH_FRAMES = 256  # at most this many frames per record,
BATCH_BYTES = 64 << 20  # and about this many bytes


@dataclass
class Summary:
    """What a backup or restore moved."""

    rooms: int
    frames: int  # stored frame versions (distinct locations), not room lengths


def refs_in(state: dict[str, Any]) -> dict[str, str]:
    """Location -> content hash of every frame version ``state`` refers to: current
    frames, the history kept for undo and the frames undo/redo records would bring back."""
    found: dict[str, str] = {}
    for room in state["rooms"]:
        triples = list(room["frames"].values())
        triples += [t for history in room["history"].values() for t in history]
        for stacks in room["records"].values():
            for record in stacks["undo"] + stacks["redo"]:
                if record["op"] == "insert":  # [index, id, version, hash, location]
                    triples += [item[2:] for item in record["items"]]
                elif record["op"] == "update":  # [id, hash written, old hash, old location]
                    triples += [[None, *change[2:]] for change in record["frames"]]
        for _, hash_, location in triples:
            found[location] = hash_
    return found


def _relocated(value: Any, moved: dict[str, str]) -> Any:
    """``value`` (a nest of lists and dicts) with each location string replaced."""
    if isinstance(value, str):
        return moved.get(value, value)
    if isinstance(value, list):
        return [_relocated(item, moved) for item in value]
    if isinstance(value, dict):
        return {key: _relocated(item, moved) for key, item in value.items()}
    return value


def _write_record(out: BinaryIO, record: dict[str, Any]) -> None:
    body = codec.encode(record)
    out.write(_LENGTH.pack(len(body)) + body)


def _records(source: BinaryIO) -> Iterator[dict[str, Any]]:
    while header := source.read(_LENGTH.size):
        if len(header) < _LENGTH.size:
            break
        (length,) = _LENGTH.unpack(header)
        body = source.read(length)
        if len(body) < length:
            break
        yield codec.decode(body, bounded=False)


async def backup(store: Store, storage: DataProvider, path: str | Path) -> Summary:
    """Write every room of ``store`` and the frame data it refers to into ``path``
    (written next to it, then renamed: an interrupted backup leaves no partial file)."""
    path = Path(path)
    state = await store.export_state()
    hash_of = refs_in(state)
    locations = sorted(hash_of, key=lambda loc: (loc.rpartition("/")[0],
                                                 int(loc.rpartition("/")[2])))
    state = {**state, "hashes": {h: loc for loc, h in hash_of.items()}}
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as out:  # noqa: ASYNC230 (the loop of a command, no server)
        out.write(MAGIC)
        _write_record(out, {"state": state})
        start, count = 0, 1  # frames per record: sized by the frames seen so far
        while start < len(locations):
            part = locations[start : start + count]
            try:
                batch = await in_thread(storage.read, part)
            except (KeyError, FileNotFoundError) as error:
                raise RuntimeError(f"frame data of the snapshot is gone ({error}): it was "
                                   "reclaimed during the backup; run it again") from None
            _write_record(out, {"locations": part, "hashes": [hash_of[loc] for loc in part],
                                "frames": batch.to_wire()})
            start += len(part)
            count = max(1, min(BATCH_FRAMES, BATCH_BYTES * len(part) // max(1, batch.nbytes)))
        _write_record(out, {"end": len(locations)})
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return Summary(len(state["rooms"]), len(locations))


async def restore(store: Store, storage: DataProvider, path: str | Path) -> Summary:
    """Load a backup from ``path`` into ``store`` (which must hold no room) and
    ``storage``; the frame data first, checked against its hashes, then the state."""
    if (await store.list_rooms(0, 0))[0]:
        raise RuntimeError("the deployment already has rooms: restore into an empty one")
    state, moved, ended = None, {}, None
    with open(path, "rb") as source:  # noqa: ASYNC230 (the loop of a command, no server)
        if source.read(len(MAGIC)) != MAGIC:
            raise RuntimeError(f"{path} is not a zndraw-widget backup")
        for record in _records(source):
            if "state" in record:
                state = record["state"]
            elif "frames" in record:
                batch = FrameBatch.from_wire(record["frames"], validate=False)
                if await in_thread(batch.hashes) != record["hashes"]:
                    raise RuntimeError(f"{path} is corrupt: frame data does not match its hash")
                new = await in_thread(storage.write, batch)
                moved.update(zip(record["locations"], new, strict=True))
            elif "end" in record:
                ended = record["end"]
    if state is None or ended != len(moved):
        raise RuntimeError(f"{path} is truncated: restore from a complete backup")
    await store.import_state(_relocated(state, moved))
    return Summary(len(state["rooms"]), len(moved))


def open_deployment(settings: Settings, *, in_use: bool = False) -> tuple[Store, ZarrProvider]:
    """The store and frame storage of a deployment; ``in_use``: the embedded store is read
    as a detached snapshot, without the lock its running server holds."""
    storage = ZarrProvider(settings.storage_path / "frames")
    if in_use and not settings.redis_url:
        return MemoryStore.snapshot_of(settings.storage_path / "state"), storage
    store = open_store(settings.redis_url, str(settings.storage_path / "state"),
                       redis_prefix=settings.redis_prefix)
    return store, storage


async def backup_deployment(settings: Settings, path: str | Path) -> Summary:
    """Back up the deployment of ``settings`` (its servers may keep running)."""
    store, storage = open_deployment(settings, in_use=True)
    try:
        return await backup(store, storage, path)
    finally:
        await store.close()


async def restore_deployment(settings: Settings, path: str | Path) -> Summary:
    """Restore a backup into the empty deployment of ``settings``."""
    store, storage = open_deployment(settings)
    try:
        return await restore(store, storage, path)
    finally:
        await store.close()
