"""A least-recently-used mapping bounded by the bytes of its values."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """Keeps the most recently used values up to ``max_bytes`` in total (thread-safe);
    ``dropped(key)`` hears of each value it lets go to make room."""

    def __init__(self, max_bytes: int, size_of: Callable[[V], int] = len,
                 dropped: Callable[[Hashable], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._dropped = dropped
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: V) -> bool:
        """Keep ``value`` under ``key``; False if it alone is over ``max_bytes`` (not kept)."""
        size = self._size_of(value)
        if size > self.max_bytes:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                dropped, (_, freed) = self._items.popitem(last=False)
                self._bytes -= freed
                if self._dropped is not None:
                    self._dropped(dropped)
        return True

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes
