"""A Room's local cache of whole frames, invalidated by the room's data events.

Content is kept as the batches reads returned (as they came, or, when bigger than a quarter
of the cache, copied in blocks of that size), in a byte-bounded LRU of blocks; each frame version
``(frame id, version)``, which never changes meaning, points at its row in a block. Which
frame sits at which position (and the room's length) is what events and this client's own
writes invalidate. A read stores what it got only if nothing was invalidated while it was
under way, so a read racing an event can never re-insert stale data.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Hashable, Sequence

from ..cache import ByteLRU
from ..frames import FrameBatch

Ref = tuple[str, int]  # (frame id, version)
BLOCK_SHARE = 4  # a block takes at most 1/BLOCK_SHARE of the cache


def batch_nbytes(batch: FrameBatch) -> int:
    return 256 + sum(column.nbytes for column in batch.columns.values())


class FrameCache:
    """Frames by position while the room is known to be unchanged there (thread-safe).

    It serves and stores nothing while not ``live`` (the control channel is down, so
    changes could go unnoticed); :meth:`begin` / :meth:`store` bracket a read.
    """

    def __init__(self, max_bytes: int) -> None:
        self._blocks: ByteLRU[FrameBatch] = ByteLRU(max_bytes, batch_nbytes, self._dropped)
        self._block_refs: dict[Hashable, list[Ref]] = {}
        self._rows: dict[Ref, tuple[Hashable, int]] = {}  # where each version is kept
        self._block_ids = itertools.count()
        self._positions: dict[int, Ref] = {}
        self._length: int | None = None
        self._generation = 0
        self._live = False
        self._lock = threading.Lock()

    # -- reading --------------------------------------------------------------------------
    def length(self) -> int | None:
        """The room's length, if known."""
        with self._lock:
            return self._length if self._live else None

    def position(self, index: int) -> int | None:
        """The non-negative position of ``index`` if it can be known without a request."""
        if index >= 0:
            return index
        length = self.length()
        return None if length is None or index + length < 0 else index + length

    def lookup(self, positions: Sequence[int]) -> FrameBatch | None:
        """The frames at ``positions`` (in that order), or None unless all are here. Where
        they are consecutive rows of one block, the batch views the cached arrays: read it
        (``FrameBatch.to_atoms`` copies what it takes), never change it."""
        runs: list[list] = []  # [block key, block, first row, rows]
        with self._lock:
            if not self._live:
                return None
            for position in positions:
                ref = self._positions.get(position)
                where = None if ref is None else self._rows.get(ref)
                if where is None:
                    return None
                key, row = where
                if runs and runs[-1][0] == key and runs[-1][2] + runs[-1][3] == row:
                    runs[-1][3] += 1
                    continue
                block = self._blocks.get(key)
                if block is None:
                    return None
                runs.append([key, block, row, 1])
        parts = [block.take(slice(first, first + count)) for _, block, first, count in runs]
        return parts[0] if len(parts) == 1 else FrameBatch.concat(parts)

    # -- filling --------------------------------------------------------------------------
    def begin(self) -> int:
        """A token for :meth:`store`: take it before sending the read."""
        with self._lock:
            return self._generation

    def store(self, token: int, positions: Sequence[int], refs: Sequence[Ref],
              batch: FrameBatch | None, length: int | None) -> None:
        """Keep what a read returned, unless something was invalidated since ``token``.
        ``batch`` (its frames, one per ref) is handed over: never change it afterwards."""
        blocks = [] if batch is None else self._blocks_of(batch)
        with self._lock:
            if not self._live or token != self._generation:
                return
            if length is not None:
                self._length = length
            self._positions.update(zip(positions, refs))
            for start, block in blocks:
                key = next(self._block_ids)
                block_refs = list(refs[start:start + len(block)])
                self._block_refs[key] = block_refs
                if not self._blocks.put(key, block):
                    del self._block_refs[key]
                    continue
                self._rows.update(zip(block_refs, zip(itertools.repeat(key), itertools.count())))

    def _blocks_of(self, batch: FrameBatch) -> list[tuple[int, FrameBatch]]:
        """``batch`` in blocks of at most ``1/BLOCK_SHARE`` of the cache: ``(first row,
        block)`` each; the blocks of a bigger batch are copies, so that its arrays can go
        once some of its blocks have."""
        per_frame = max(1, batch_nbytes(batch) // max(1, len(batch)))
        rows = max(1, self._blocks.max_bytes // BLOCK_SHARE // per_frame)
        if rows >= len(batch):
            return [(0, batch)]
        return [(start, batch.take(slice(start, start + rows)).copy())
                for start in range(0, len(batch), rows)]

    def _dropped(self, key: Hashable) -> None:
        """The LRU let block ``key`` go (called with ``_lock`` held, by :meth:`store`)."""
        for ref in self._block_refs.pop(key, ()):
            if self._rows.get(ref, (None,))[0] == key:
                del self._rows[ref]

    # -- invalidating ---------------------------------------------------------------------
    def changed_order(self, length: int | None) -> None:
        """Frames were inserted or deleted: every position is in doubt."""
        with self._lock:
            self._generation += 1
            self._positions.clear()
            self._length = length

    def changed_frame(self, position: int) -> None:
        with self._lock:
            self._generation += 1
            self._positions.pop(position, None)

    def set_live(self, live: bool) -> None:
        """Serve and store only while live. What is known by position stays: on the way
        back, the missed events (or a clear, when they are not known) invalidate it."""
        with self._lock:
            self._generation += 1
            self._live = live
