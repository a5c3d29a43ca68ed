"""A Room's local cache of whole frames, invalidated by the room's data events.

Content is kept by ``(frame id, version)``, which never changes meaning, in a byte-bounded
LRU; which frame sits at which position (and the room's length) is what events and this
client's own writes invalidate. A read stores what it got only if nothing was invalidated
while it was under way, so a read racing an event can never re-insert stale data.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

import numpy as np

from ..cache import ByteLRU
from ..frames import Frame

Ref = tuple[str, int]  # (frame id, version)


def frame_nbytes(frame: Frame) -> int:
    return 256 + sum(v.nbytes for v in frame.values() if isinstance(v, np.ndarray))


def _own(frame: Frame) -> Frame:
    """``frame`` with its own copies: arrays no longer view a whole response, objects are
    not shared with what a caller might modify."""
    return {k: np.array(v) if isinstance(v, np.ndarray) else copy.deepcopy(v)
            for k, v in frame.items()}


class FrameCache:
    """Frames by position while the room is known to be unchanged there (thread-safe).

    It serves and stores nothing while not ``live`` (the control channel is down, so
    changes could go unnoticed); :meth:`begin` / :meth:`store` bracket a read.
    """

    def __init__(self, max_bytes: int) -> None:
        self._content: ByteLRU[Frame] = ByteLRU(max_bytes, frame_nbytes)
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

    def lookup(self, positions: Sequence[int]) -> list[tuple[Ref, Frame]] | None:
        """The refs and frames (own copies) at ``positions``, or None unless all are here."""
        found = []
        with self._lock:
            if not self._live:
                return None
            for position in positions:
                ref = self._positions.get(position)
                frame = None if ref is None else self._content.get(ref)
                if frame is None:
                    return None
                found.append((ref, frame))
        return [(ref, _own(frame)) for ref, frame in found]

    # -- filling --------------------------------------------------------------------------
    def begin(self) -> int:
        """A token for :meth:`store`: take it before sending the read."""
        with self._lock:
            return self._generation

    def store(self, token: int, positions: Sequence[int], refs: Sequence[Ref],
              frames: Sequence[Frame] | None, length: int | None) -> None:
        """Keep what a read returned, unless something was invalidated since ``token``."""
        owned = [_own(frame) for frame in frames] if frames is not None else None
        with self._lock:
            if not self._live or token != self._generation:
                return
            if length is not None:
                self._length = length
            for index, (position, ref) in enumerate(zip(positions, refs)):
                self._positions[position] = ref
                if owned is not None:
                    self._content.put(ref, owned[index])

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
