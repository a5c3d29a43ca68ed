"""Frame data storage: a :class:`DataProvider` interface and its zarr implementation.

Frame data is written once and never moved. Each write of a batch becomes one *segment*,
a zarr group with one array per field (padded to the batch's largest frame); a frame's
*location* is ``"<segment>/<row>"``. Which location is current for which frame is the
business of :mod:`zndraw_widget.state`, never of the storage.
"""

from __future__ import annotations

import secrets
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterable, Sequence

import msgpack
import numpy as np
import zarr

from .cache import ByteLRU
from .frames import Column, FrameBatch

TARGET_CHUNK_BYTES = 1 << 20


class DataProvider(ABC):
    """Where frame data lives."""

    @abstractmethod
    def write(self, batch: FrameBatch) -> list[str]:
        """Store ``batch``; return the location of each frame, in order."""

    @abstractmethod
    def read(self, locations: Sequence[str], fields: Iterable[str] | None = None) -> FrameBatch:
        """The frames at ``locations`` (only ``fields``, if given), in that order."""

    @abstractmethod
    def fields(self, locations: Sequence[str]) -> set[str]:
        """The union of the fields stored at ``locations``."""

    @abstractmethod
    def segments(self) -> set[str]:
        """Every stored segment."""

    @abstractmethod
    def delete_segments(self, segments: Iterable[str]) -> None:
        """Reclaim whole segments that no frame version refers to any more."""


def split_location(location: str) -> tuple[str, int]:
    segment, _, row = location.rpartition("/")
    return segment, int(row)


class ZarrProvider(DataProvider):
    """Segments as zarr v3 groups under ``path``; hot chunks cached in memory."""

    def __init__(self, path: str | Path, cache_bytes: int = 512 << 20) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._root = zarr.open_group(str(self.path), mode="a", zarr_format=3)
        self._chunks: ByteLRU[Any] = ByteLRU(cache_bytes, size_of=_nbytes)
        self._meta: ByteLRU[dict[str, Any]] = ByteLRU(64 << 20, size_of=lambda m: m["nbytes"])

    # -- writing --------------------------------------------------------------------------
    def write(self, batch: FrameBatch) -> list[str]:
        segment = secrets.token_hex(8)
        group = self._root.create_group(segment)
        for name, column in batch.columns.items():
            _write_column(group, name, column)
        return [f"{segment}/{row}" for row in range(len(batch))]

    # -- reading --------------------------------------------------------------------------
    def read(self, locations: Sequence[str], fields: Iterable[str] | None = None) -> FrameBatch:
        wanted = None if fields is None else list(fields)
        parts: list[FrameBatch] = []
        run_segment, run_rows = None, []
        for location in locations:
            segment, row = split_location(location)
            if segment != run_segment and run_rows:
                parts.append(self._read_rows(run_segment, run_rows, wanted))
                run_rows = []
            run_segment = segment
            run_rows.append(row)
        if run_rows:
            parts.append(self._read_rows(run_segment, run_rows, wanted))
        if not parts:
            return FrameBatch({}, 0)
        return FrameBatch.concat(parts)

    def fields(self, locations: Sequence[str]) -> set[str]:
        segments = {split_location(loc)[0] for loc in locations}
        return set().union(*(self._segment_meta(s)["fields"] for s in segments))

    def _segment_meta(self, segment: str) -> dict[str, Any]:
        meta = self._meta.get(segment)
        if meta is None:
            group = self._root[segment]
            arrays = {name: array for name, array in group.arrays()}
            columns = {}
            nbytes = 0
            for name, array in arrays.items():
                attrs = dict(array.attrs)
                shapes = np.asarray(attrs["shapes"], dtype=np.int64) if "shapes" in attrs else None
                present = np.asarray(attrs["present"], dtype=bool) if "present" in attrs else None
                columns[name] = (array, attrs.get("kind", "values"), shapes, present)
                nbytes += 0 if shapes is None else shapes.nbytes
            meta = {"fields": set(arrays), "columns": columns, "nbytes": nbytes + 1024}
            self._meta.put(segment, meta)
        return meta

    def _read_rows(self, segment: str, rows: list[int], fields: list[str] | None) -> FrameBatch:
        meta = self._segment_meta(segment)
        names = meta["fields"] if fields is None else [f for f in fields if f in meta["fields"]]
        rows_array = np.asarray(rows, dtype=np.int64)
        columns = {}
        for name in names:
            array, kind, shapes, present = meta["columns"][name]
            part_present = None if present is None else present[rows_array]
            if kind == "objects":
                objects = self._chunk(segment, name, array, 0, kind)
                columns[name] = Column(objects=[objects[r] for r in rows], present=part_present)
                continue
            values = self._rows(segment, name, array, rows_array)
            part_shapes = None if shapes is None else shapes[rows_array]
            columns[name] = Column(values=values, shapes=part_shapes, present=part_present)
        return FrameBatch(columns, len(rows))

    def _rows(self, segment: str, name: str, array: Any, rows: np.ndarray) -> np.ndarray:
        per_chunk = array.chunks[0]
        first, last = rows.min() // per_chunk, rows.max() // per_chunk
        if first == last:
            return self._chunk(segment, name, array, int(first), "values")[rows - first * per_chunk]
        out = np.empty((len(rows), *array.shape[1:]), dtype=array.dtype)
        chunk_of = rows // per_chunk
        for chunk in np.unique(chunk_of):
            mask = chunk_of == chunk
            data = self._chunk(segment, name, array, int(chunk), "values")
            out[mask] = data[rows[mask] - chunk * per_chunk]
        return out

    def _chunk(self, segment: str, name: str, array: Any, chunk: int, kind: str) -> Any:
        key = (segment, name, chunk)
        data = self._chunks.get(key)
        if data is None:
            if kind == "objects":
                data = msgpack.unpackb(array[:].tobytes(), raw=False, strict_map_key=False)
            else:
                per_chunk = array.chunks[0]
                data = array[chunk * per_chunk : (chunk + 1) * per_chunk]
            self._chunks.put(key, data)
        return data

    # -- reclaiming -----------------------------------------------------------------------
    def segments(self) -> set[str]:
        return {name for name, _ in self._root.groups()}

    def delete_segments(self, segments: Iterable[str]) -> None:
        for segment in segments:
            shutil.rmtree(self.path / segment, ignore_errors=True)


def _write_column(group: Any, name: str, column: Column) -> None:
    attrs: dict[str, Any] = {}
    if column.present is not None:
        attrs["present"] = column.present.tolist()
    if column.objects is not None:
        packed = np.frombuffer(msgpack.packb(column.objects), dtype=np.uint8)
        array = group.create_array(
            name, shape=packed.shape, chunks=(max(1, len(packed)),), dtype=np.uint8,
            compressors=None, fill_value=0,
        )
        array[:] = packed
        attrs["kind"] = "objects"
        array.attrs.update(attrs)
        return
    values = column.values
    if column.shapes is not None:
        attrs["shapes"] = column.shapes.tolist()
    frame_bytes = max(1, values[:1].nbytes)
    per_chunk = int(min(len(values), max(1, TARGET_CHUNK_BYTES // frame_bytes))) or 1
    array = group.create_array(
        name, shape=values.shape, chunks=(per_chunk, *values.shape[1:]), dtype=values.dtype,
        compressors=None, fill_value=0, attributes=attrs,
    )
    if values.size:
        array[...] = values


def _nbytes(data: Any) -> int:
    return data.nbytes if isinstance(data, np.ndarray) else 64 * len(data) + 64
