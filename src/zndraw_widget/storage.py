"""Frame data storage: a :class:`DataProvider` interface and its zarr implementation.

Frame data is written once and never moved. Each write of a batch becomes one *segment*:
a zarr group with one array per field (padded to the batch's largest frame), or, for a
batch no bigger than one chunk, a single msgpack file (zarr's per-array overhead, ~6 ms,
would dominate such small writes). A frame's *location* is ``"<segment>/<row>"``. Which
location is current for which frame is the business of :mod:`zndraw_widget.state`, never
of the storage.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import zarr

from . import codec
from .cache import ByteLRU
from .durable import fsync_all, tree
from .errors import storage_full
from .frames import Column, FrameBatch

TARGET_CHUNK_BYTES = 1 << 20
FILE_SUFFIX = ".msgpack"
ONE_CHUNK = 1 << 62  # rows per chunk of a field stored whole (objects, file segments)


class DataProvider(ABC):
    """Where frame data lives."""

    @abstractmethod
    def write(self, batch: FrameBatch) -> list[str]:
        """Store ``batch``; return the location of each frame, in order."""

    @abstractmethod
    def read(self, locations: Sequence[str], fields: Iterable[str] | None = None) -> FrameBatch:
        """The frames at ``locations`` (only ``fields``, if given), in that order."""

    @abstractmethod
    def describe(self, locations: Sequence[str]) -> dict[str, FieldInfo]:
        """Every field stored at ``locations``: its dtype and largest per-frame shape."""

    def fields(self, locations: Sequence[str]) -> set[str]:
        """The union of the fields stored at ``locations``."""
        return set(self.describe(locations))

    @abstractmethod
    def segment_ages(self) -> dict[str, float]:
        """Every stored segment and the seconds since it was written."""

    @abstractmethod
    def stored_bytes(self) -> int:
        """The bytes the stored frame data takes."""

    @abstractmethod
    def delete_segments(self, segments: Iterable[str]) -> None:
        """Reclaim whole segments that no frame version refers to any more."""


def _runs(locations: Sequence[str]) -> Iterator[tuple[str, np.ndarray]]:
    """``(segment, rows)`` for each run of consecutive locations in the same segment."""
    segment, rows = None, []
    for location in locations:
        part, _, row = location.rpartition("/")
        if part != segment and rows:
            yield segment, np.asarray(rows, dtype=np.int64)
            rows = []
        segment = part
        rows.append(int(row))
    if rows:
        yield segment, np.asarray(rows, dtype=np.int64)


@dataclass(frozen=True)
class FieldInfo:
    """What one field holds: numeric values of ``dtype`` (``None``: plain values, e.g. text)
    whose per-frame shape is at most ``shape`` (``()``: one number per frame)."""

    dtype: str | None
    shape: tuple[int, ...]

    def merge(self, other: FieldInfo) -> FieldInfo:
        """The field as both describe it (two segments of one room)."""
        if self.dtype is None or other.dtype is None:
            return FieldInfo(None, ())
        dtype = self.dtype if self.dtype == other.dtype else np.result_type(
            self.dtype, other.dtype).str
        if len(self.shape) != len(other.shape):
            return FieldInfo(dtype, max(self.shape, other.shape, key=len))
        return FieldInfo(dtype, tuple(map(max, self.shape, other.shape)))

    def to_json(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "shape": list(self.shape)}


@dataclass
class _Field:
    """Where one field of a segment is stored: ``rows`` frames per chunk, in ``array``
    (``None``: in the segment's msgpack file)."""

    rows: int
    objects: bool
    shapes: np.ndarray | None
    present: np.ndarray | None
    array: Any = None
    info: FieldInfo = FieldInfo(None, ())

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.shapes, self.present) if a is not None) + 256


class ZarrProvider(DataProvider):
    """Segments under ``path``; chunks recently written or read are cached in memory."""

    def __init__(self, path: str | Path, cache_bytes: int = 512 << 20) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._root = zarr.open_group(str(self.path), mode="a", zarr_format=3)
        self._chunks: ByteLRU[Any] = ByteLRU(cache_bytes, size_of=_nbytes)
        self._meta: ByteLRU[dict[str, _Field]] = ByteLRU(
            64 << 20, size_of=lambda meta: sum(f.nbytes for f in meta.values()))

    # -- writing --------------------------------------------------------------------------
    def write(self, batch: FrameBatch) -> list[str]:
        """Store ``batch`` durably (fsync'd: a commit may point at it once this returns);
        its arrays stay cached as they are, so they must not change. A full disk raises
        :class:`~zndraw_widget.errors.InsufficientStorage` and leaves nothing behind."""
        segment = secrets.token_hex(8)
        try:
            with storage_full("writing frame data"):
                fields, paths = self._write_segment(segment, batch)
                fsync_all([*paths, self.path])  # one pass over the segment, all at once
        except BaseException:
            self.delete_segments([segment])
            raise
        self._remember(segment, batch, fields)
        return [f"{segment}/{row}" for row in range(len(batch))]

    def _write_segment(self, segment: str, batch: FrameBatch
                       ) -> tuple[dict[str, _Field], list[str]]:
        """Write ``segment``, one file or a zarr group; its fields and the paths written."""
        if batch.nbytes <= TARGET_CHUNK_BYTES:
            self._file(segment).write_bytes(codec.encode(batch.to_wire()))
            fields = {name: _field(column) for name, column in batch.columns.items()}
            return fields, [str(self._file(segment))]
        group = self._root.create_group(segment)
        fields = {name: _write_column(group, name, column)
                  for name, column in batch.columns.items()}
        return fields, tree(self.path / segment)

    def _remember(self, segment: str, batch: FrameBatch, fields: dict[str, _Field]) -> None:
        """Cache where the fields of ``segment`` are and their chunks (views of ``batch``)."""
        self._meta.put(segment, fields)
        for name, field in fields.items():
            column = batch.columns[name]
            data = column.objects if field.objects else column.values
            for chunk, start in enumerate(range(0, len(batch), field.rows)):
                self._chunks.put((segment, name, chunk), data[start : start + field.rows])

    def _file(self, segment: str) -> Path:
        return self.path / (segment + FILE_SUFFIX)

    # -- reading --------------------------------------------------------------------------
    def read(self, locations: Sequence[str], fields: Iterable[str] | None = None) -> FrameBatch:
        runs = [(segment, self._segment_meta(segment), rows) for segment, rows in _runs(locations)]
        if fields is None:
            fields = dict.fromkeys(name for _, meta, _ in runs for name in meta)
        columns = {}
        for name in fields:
            parts = [part for segment, meta, rows in runs
                     for part in self._parts(segment, name, meta.get(name), rows)]
            if any(part.columns for part in parts):
                columns[name] = FrameBatch.concat(parts).columns[name]
        return FrameBatch(columns, len(locations))

    def fields(self, locations: Sequence[str]) -> set[str]:  # on every read naming fields:
        segments = {location.rpartition("/")[0] for location in locations}  # no merging
        return set().union(*(self._segment_meta(s) for s in segments))

    def describe(self, locations: Sequence[str]) -> dict[str, FieldInfo]:
        described: dict[str, FieldInfo] = {}
        for segment in dict.fromkeys(location.rpartition("/")[0] for location in locations):
            for name, field in self._segment_meta(segment).items():
                known = described.get(name)
                described[name] = field.info if known is None else known.merge(field.info)
        return described

    def _segment_meta(self, segment: str) -> dict[str, _Field]:
        meta = self._meta.get(segment)
        if meta is None:
            if self._file(segment).exists():
                meta = self._read_file(segment)[0]
            else:
                meta = {name: _stored_field(array) for name, array in self._root[segment].arrays()}
                self._meta.put(segment, meta)
        return meta

    def _read_file(self, segment: str) -> tuple[dict[str, _Field], FrameBatch]:
        message = codec.decode(self._file(segment).read_bytes(), bounded=False)
        batch = FrameBatch.from_wire(message, validate=False)
        meta = {name: _field(column) for name, column in batch.columns.items()}
        self._remember(segment, batch, meta)
        return meta, batch

    def _parts(self, segment: str, name: str, field: _Field | None, rows: np.ndarray
               ) -> Iterator[FrameBatch]:
        """Field ``name`` of the frames at ``rows`` of ``segment``, one batch per chunk (views
        of the cached chunk where the rows are consecutive)."""
        if field is None:
            yield FrameBatch({}, len(rows))
            return
        chunk_of = rows // field.rows
        for part in np.split(rows, np.flatnonzero(np.diff(chunk_of)) + 1):
            chunk = int(part[0]) // field.rows
            data = self._chunk(segment, name, field, chunk)
            local = part - chunk * field.rows
            present = None if field.present is None else field.present[part]
            if field.objects:
                column = Column(objects=[data[r] for r in local], present=present)
            else:
                consecutive = len(local) == 1 or bool((np.diff(local) == 1).all())
                values = data[local[0] : local[-1] + 1] if consecutive else data[local]
                shapes = None if field.shapes is None else field.shapes[part]
                column = Column(values=values, shapes=shapes, present=present)
            yield FrameBatch({name: column}, len(part))

    def _chunk(self, segment: str, name: str, field: _Field, chunk: int) -> Any:
        key = (segment, name, chunk)
        data = self._chunks.get(key)
        if data is None:
            if field.array is None:  # a file segment's only chunk
                column = self._read_file(segment)[1].columns[name]
                data = column.objects if field.objects else column.values
            elif field.objects:
                data = msgpack.unpackb(field.array[:].tobytes(), raw=False, strict_map_key=False)
            else:
                data = field.array[chunk * field.rows : (chunk + 1) * field.rows]
            self._chunks.put(key, data)
        return data

    # -- reclaiming -----------------------------------------------------------------------
    def segment_ages(self) -> dict[str, float]:
        now = time.time()
        return {entry.name.removesuffix(FILE_SUFFIX): now - entry.stat().st_mtime
                for entry in os.scandir(self.path) if entry.name != "zarr.json"}

    def stored_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.path.rglob("*") if path.is_file())

    def delete_segments(self, segments: Iterable[str]) -> None:
        for segment in segments:
            shutil.rmtree(self.path / segment, ignore_errors=True)
            self._file(segment).unlink(missing_ok=True)


def _field(column: Column) -> _Field:
    """A field of a file segment: one chunk."""
    return _Field(ONE_CHUNK, column.objects is not None, column.shapes, column.present,
                  info=_info(column.values))


def _info(values: Any) -> FieldInfo:
    """The :class:`FieldInfo` of a field stored as ``values`` (None or bytes: objects)."""
    if values is None:
        return FieldInfo(None, ())
    return FieldInfo(values.dtype.str, tuple(int(s) for s in values.shape[1:]))


def _write_column(group: Any, name: str, column: Column) -> _Field:
    attrs: dict[str, Any] = {}
    if column.present is not None:
        attrs["present"] = column.present.tolist()
    if column.objects is not None:
        packed = np.frombuffer(msgpack.packb(column.objects), dtype=np.uint8)
        attrs["kind"] = "objects"
        array = group.create_array(
            name, shape=packed.shape, chunks=(max(1, len(packed)),), dtype=np.uint8,
            compressors=None, fill_value=0, attributes=attrs,
        )
        array[:] = packed
        return _Field(ONE_CHUNK, True, None, column.present, array)
    values = column.values
    if column.shapes is not None:
        attrs["shapes"] = column.shapes.tolist()
    frame_bytes = max(1, values[:1].nbytes)
    per_chunk = int(min(len(values), max(1, TARGET_CHUNK_BYTES // frame_bytes))) or 1
    array = group.create_array(  # write_empty_chunks: skip scanning each chunk for zeros
        name, shape=values.shape, chunks=(per_chunk, *values.shape[1:]), dtype=values.dtype,
        compressors=None, fill_value=0, attributes=attrs, config={"write_empty_chunks": True},
    )
    if values.size:
        array[...] = values
    return _Field(per_chunk, False, column.shapes, column.present, array, _info(values))


def _stored_field(array: Any) -> _Field:
    """The field stored in zarr ``array`` (as :func:`_write_column` wrote it)."""
    attrs = array.attrs
    shapes = np.asarray(attrs["shapes"], dtype=np.int64) if "shapes" in attrs else None
    present = np.asarray(attrs["present"], dtype=bool) if "present" in attrs else None
    if attrs.get("kind") == "objects":
        return _Field(ONE_CHUNK, True, None, present, array)
    return _Field(array.chunks[0], False, shapes, present, array, _info(array))


def _nbytes(data: Any) -> int:
    return data.nbytes if isinstance(data, np.ndarray) else 64 * len(data) + 64
