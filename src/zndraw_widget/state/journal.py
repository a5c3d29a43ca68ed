"""The files of the :class:`~zndraw_widget.state.memory.MemoryStore`: an append-only journal
of records and snapshots replacing it.

The journal is length-prefixed msgpack records. Its first record names the *generation* of
the snapshot it continues (``["generation", n]``); a journal of an older generation was
taken into a snapshot already (the process stopped between writing the snapshot and
emptying the journal) and is skipped. A torn last record (the process died while writing
it) is dropped, as it was never acknowledged.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgpack

from ..errors import storage_full

_LENGTH = struct.Struct("<I")
GENERATION = "generation"


class Journal:
    """``state.journal`` in a directory; :meth:`append` returns once the record is on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        #: Its own thread: appends never wait behind other work of the event loop's executor.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="state-journal")
        self.size = 0  # bytes of whole records
        self.records = 0  # records since the generation header
        self.started = time.monotonic()  # when the first of those was written (or opened)

    def replay(self, generation: int) -> list[Any]:
        """The records of ``generation`` (none if the journal is of another); the journal is
        then cut to them, ready to append."""
        with open(self.path, "rb") as f:
            records, good = read_records(f.read(), generation)
        self.records = len(records)
        if good == 0:
            self.reset(generation)
        else:
            os.ftruncate(self._fd, good)
            self.size = good
        return records

    async def append(self, record: Any) -> None:
        """Write ``record`` and fsync it in the journal's thread (the event loop goes on
        meanwhile); if that fails the journal is as it was. The caller waits for one append
        before the next."""
        packed = msgpack.packb(record)
        data = _LENGTH.pack(len(packed)) + packed
        await asyncio.get_running_loop().run_in_executor(self._writer, self._write, data)
        self.records += 1

    def _write(self, data: bytes) -> None:
        try:
            with storage_full("appending to the state journal"):
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fsync(self._fd)
        except BaseException:
            os.ftruncate(self._fd, self.size)  # no torn record for the next one to follow
            raise
        self.size += len(data)

    def reset(self, generation: int) -> None:
        """Empty the journal: its records are in the snapshot of ``generation``."""
        os.ftruncate(self._fd, 0)
        self.size = self.records = 0
        self.started = time.monotonic()
        self._write(_header(generation))

    def close(self) -> None:
        self._writer.shutdown()
        os.close(self._fd)


def read_records(data: bytes, generation: int) -> tuple[list[Any], int]:
    """The whole records of ``generation`` in the journal bytes ``data`` (none if the journal
    is of another generation), and the length they take."""
    records: list[Any] = []
    good, first = 0, True
    while good + 4 <= len(data):
        (length,) = _LENGTH.unpack_from(data, good)
        if good + 4 + length > len(data):
            break
        record = msgpack.unpackb(data[good + 4 : good + 4 + length], strict_map_key=False)
        header = first and record[0] == GENERATION
        if header and record[1] != generation:
            return [], 0
        good += 4 + length
        if not header:
            records.append(record)
        first = False
    return records, good


def _header(generation: int) -> bytes:
    packed = msgpack.packb([GENERATION, generation])
    return _LENGTH.pack(len(packed)) + packed
