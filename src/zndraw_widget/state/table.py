"""One room's frames in the :class:`~zndraw_widget.state.memory.MemoryStore`, held in
columns (:mod:`.columns`): a table of rows (id, version, hash, location), the order as an
array of rows, a :class:`~.columns.KeyIndex` from id to row, and the past versions of frames
as a log of the same columns (the current version of a frame is its row; a deleted frame's
last version goes to the log, where undo finds it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .columns import (
    KeyIndex,
    Segments,
    hash_key,
    hash_text,
    hashes_array,
    ids_array,
    keys_array,
    lookup_keys,
    pack,
    unpack,
    writable,
)

Ref = tuple[str, int, str, str]  # id, version, hash, location


class _Columns:
    """Rows of (id, version, hash, location) in growing arrays."""

    def __init__(self) -> None:
        self.ids = np.empty(0, dtype="S1")
        self.versions = np.empty(0, dtype=np.int64)
        self.hashes = np.empty(0, dtype="S1")
        self.locations = np.empty(0, dtype=np.int64)
        self.size = 0

    def _fields(self) -> list[str]:
        return ["ids", "versions", "hashes", "locations"]

    def append(self, ids: np.ndarray, versions: np.ndarray, hashes: np.ndarray,
               locations: np.ndarray) -> np.ndarray:
        """Add rows; their numbers."""
        count, start = len(ids), self.size
        if start + count > len(self.versions):
            capacity = max(start + count, len(self.versions) * 3 // 2, 16)
            for name in self._fields():
                old = getattr(self, name)
                grown = np.zeros(capacity, dtype=old.dtype)
                grown[:start] = old[:start]
                setattr(self, name, grown)
        for name, values in zip(self._fields(), (ids, versions, hashes, locations), strict=True):
            column = writable(getattr(self, name))
            if column.dtype.kind == "S" and values.dtype.itemsize > column.dtype.itemsize:
                column = column.astype(values.dtype)
            column[start : start + count] = values
            setattr(self, name, column)
        self.size += count
        return np.arange(start, start + count)

    def take(self, rows: np.ndarray) -> _Columns:
        taken = _Columns()
        for name in self._fields():
            setattr(taken, name, getattr(self, name)[rows])
        taken.size = len(rows)
        return taken

    def state(self) -> list[Any]:
        return [pack(getattr(self, name)[: self.size]) for name in self._fields()]

    @classmethod
    def from_state(cls, state: list[Any]) -> _Columns:
        columns = cls()
        for name, packed in zip(columns._fields(), state, strict=True):
            setattr(columns, name, unpack(packed))
        columns.size = len(columns.versions)
        return columns


class FrameTable:
    """The frames of one room, in order, with the past versions of each."""

    def __init__(self, segments: Segments, depth: int) -> None:
        self.segments = segments
        self.depth = depth  # versions kept per frame, the current one included (<= 0: all)
        self._rows = _Columns()
        self.order = np.empty(0, dtype=np.int64)  # rows, by position
        self._index = KeyIndex()  # id -> row
        self._past = _Columns()
        self._past_trimmed = 0  # log size after the last trim

    def __len__(self) -> int:
        return len(self.order)

    # -- reading --------------------------------------------------------------------------
    def rows_of(self, ids: Sequence[str]) -> np.ndarray:
        """The row of each frame id, -1 where the room has no such frame."""
        keys, held = lookup_keys(list(ids))
        rows = self._index.lookup(keys)
        rows[~held] = -1
        return rows

    def row(self, frame_id: str) -> int:
        return int(self.rows_of([frame_id])[0])

    def refs(self, rows: np.ndarray) -> list[Ref]:
        """(id, version, hash, location) of each row."""
        rows = np.asarray(rows, dtype=np.int64)
        decode = self.segments.decode
        return [(i.decode(), v, hash_text(h), decode(loc)) for i, v, h, loc in zip(
            self._rows.ids[rows].tolist(), self._rows.versions[rows].tolist(),
            self._rows.hashes[rows].tolist(), self._rows.locations[rows].tolist(), strict=True)]

    def ref(self, row: int) -> Ref:
        return self.refs(np.array([row]))[0]

    def ids_at(self, positions: Sequence[int]) -> list[str]:
        return [i.decode() for i in self._rows.ids[self.order[positions]].tolist()]

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """The position of each row in the order."""
        if len(rows) <= 4:  # each searched for from the start, a block at a time
            return np.array([self._position(r) for r in rows.tolist()], dtype=np.int64)
        where = np.empty(self._rows.size, dtype=np.int64)
        where[self.order] = np.arange(len(self.order))
        return where[rows]

    def _position(self, row: int, block: int = 1 << 14) -> int:
        for start in range(0, len(self.order), block):
            found = np.flatnonzero(self.order[start : start + block] == row)
            if len(found):
                return start + int(found[0])
        raise KeyError(row)

    def history(self, row: int) -> list[tuple[int, str]]:
        """(version, hash) of the versions kept of the frame at ``row``, oldest first."""
        past = np.flatnonzero(self._past.ids[: self._past.size] == self._rows.ids[row])
        if self.depth > 0:
            past = past[len(past) - min(len(past), self.depth - 1):]
        versions = self._past.versions[past].tolist() + [int(self._rows.versions[row])]
        hashes = self._past.hashes[past].tolist() + [self._rows.hashes[row]]
        return [(v, hash_text(h)) for v, h in zip(versions, hashes, strict=True)]

    def live_locations(self) -> np.ndarray:
        """The location codes of the frames and of the versions kept."""
        self.trim()
        return np.concatenate([self._rows.locations[self.order],
                               self._past.locations[: self._past.size]])

    # -- writing --------------------------------------------------------------------------
    def insert(self, index: int, refs: Sequence[Ref]) -> tuple[np.ndarray, np.ndarray]:
        """Insert frames ``refs`` at positions ``index``, ``index + 1``, ...; their hashes
        and locations as stored."""
        ids, hashes = ids_array([r[0] for r in refs]), hashes_array([r[2] for r in refs])
        locations = self.segments.encode_all([r[3] for r in refs])
        rows = self._rows.append(ids, np.fromiter((r[1] for r in refs), np.int64, len(refs)),
                                 hashes, locations)
        self.order = np.insert(self.order, index, rows)
        self._index.set(ids, rows)
        return hashes, locations

    def update(self, row: int, version: int, hash_: str, location: str
               ) -> tuple[np.ndarray, np.ndarray]:
        """Point the frame at ``row`` at new content; its current version joins the past.
        The hash and location as stored."""
        self._to_past(np.array([row]))
        columns = self._rows
        hashed = hash_key(hash_)
        columns.versions, columns.locations = writable(columns.versions), writable(columns.locations)
        columns.hashes = writable(columns.hashes).astype(
            f"S{max(len(hashed), columns.hashes.dtype.itemsize)}", copy=False)
        code = self.segments.encode(location)
        columns.versions[row], columns.hashes[row], columns.locations[row] = version, hashed, code
        return keys_array([hashed]), np.array([code], dtype=np.int64)

    def remove(self, rows: np.ndarray) -> tuple[list[int], list[Ref]]:
        """Remove the frames at ``rows`` (distinct); their positions, ascending, and what
        they were. Their last versions join the past (so their segments stay live for undo)."""
        gone = np.isin(self.order, rows)
        positions = np.flatnonzero(gone)
        removed = self.refs(self.order[positions])
        self._to_past(self.order[positions])
        self._index.set(self._rows.ids[rows], np.full(len(rows), -1, dtype=np.int64))
        self.order = self.order[~gone]
        if self._rows.size - len(self.order) > max(1024, len(self.order)):
            self._compact()
        return positions.tolist(), removed

    def _to_past(self, rows: np.ndarray) -> None:
        current = self._rows.take(rows)
        self._past.append(current.ids, current.versions, current.hashes, current.locations)
        if self._past.size > 2 * self._past_trimmed + 1024:
            self.trim()

    def trim(self) -> None:
        """Keep ``depth`` versions of each frame (``depth - 1`` past ones of a frame in the
        room, whose current version is its row)."""
        size = self._past.size
        if self.depth <= 0 or size == 0:
            self._past_trimmed = size
            return
        ids = self._past.ids[:size]
        by_id = np.argsort(ids, kind="stable")  # each id's versions stay oldest first
        grouped = ids[by_id]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        ends = np.r_[starts[1:], size]
        group = np.repeat(np.arange(len(starts)), ends - starts)
        from_end = ends[group] - 1 - np.arange(size)
        present = self._index.lookup(grouped[starts]) >= 0
        limit = np.where(present, self.depth - 1, self.depth)
        keep = np.zeros(size, dtype=bool)
        keep[by_id[from_end < limit[group]]] = True
        self._past = self._past.take(np.flatnonzero(keep))
        self._past_trimmed = self._past.size

    def _compact(self) -> None:
        """Drop the rows of removed frames: row k becomes the frame at position k."""
        self._index.merge()
        renumbered = np.full(self._rows.size, -1, dtype=np.int64)
        renumbered[self.order] = np.arange(len(self.order))
        self._index.values = renumbered[self._index.values]
        self._rows = self._rows.take(self.order)
        self.order = np.arange(len(self.order))

    # -- whole tables ---------------------------------------------------------------------
    def export(self) -> tuple[list[str], dict[str, list], dict[str, list]]:
        """(order, {id: [version, hash, location]}, {id: [[version, hash, location]]}) as
        :data:`~zndraw_widget.state.base.STATE_FORMAT` has them."""
        self.trim()
        refs = self.refs(self.order)
        frames = {i: [v, h, loc] for i, v, h, loc in refs}
        history: dict[str, list] = {}
        past = self._past
        for i, v, h, loc in zip(past.ids[: past.size].tolist(),
                                past.versions[: past.size].tolist(),
                                past.hashes[: past.size].tolist(),
                                past.locations[: past.size].tolist(), strict=True):
            history.setdefault(i.decode(), []).append([v, hash_text(h), self.segments.decode(loc)])
        for i, v, h, loc in refs:
            history.setdefault(i, []).append([v, h, loc])
        return [r[0] for r in refs], frames, history

    @classmethod
    def from_export(cls, segments: Segments, depth: int, order: Sequence[str],
                    frames: dict[str, Any], history: dict[str, Any]) -> FrameTable:
        """The table of :meth:`export`'s three values (or an older snapshot's)."""
        table = cls(segments, depth)
        past: list[Ref] = []
        for frame_id, versions in history.items():
            kept = versions[:-1] if frame_id in frames and versions else versions
            past.extend((frame_id, v, h, loc) for v, h, loc in kept)
        if past:
            table._past.append(ids_array([r[0] for r in past]),
                               np.fromiter((r[1] for r in past), np.int64, len(past)),
                               hashes_array([r[2] for r in past]),
                               segments.encode_all([r[3] for r in past]))
        table.insert(0, [(i, *frames[i]) for i in order])
        table._past_trimmed = table._past.size
        return table

    def state(self) -> dict[str, Any]:
        """The table as raw buffers (for a snapshot)."""
        self.trim()
        if self._rows.size != len(self.order) or not np.array_equal(
                self.order, np.arange(len(self.order))):
            self._compact()
        return {"rows": self._rows.state(), "index": self._index.state(),
                "past": self._past.state()}

    @classmethod
    def from_state(cls, segments: Segments, depth: int, state: dict[str, Any]) -> FrameTable:
        table = cls(segments, depth)
        table._rows = _Columns.from_state(state["rows"])
        table.order = np.arange(table._rows.size)
        table._index = KeyIndex.from_state(state["index"])
        table._past = _Columns.from_state(state["past"])
        table._past_trimmed = table._past.size
        return table
