"""What one client last saw of a room: the base versions its next writes state."""

from __future__ import annotations

from typing import Any


class View:
    """The room's ``order_version`` and length, and ``(id, version)`` of frames by position,
    as of the last response. Frame entries hold only while the order is unchanged."""

    def __init__(self) -> None:
        self.order_version: int | None = None
        self.length: int | None = None
        self.frames: dict[int, tuple[str, int]] = {}

    def saw_order(self, order_version: int, length: int | None) -> None:
        if order_version != self.order_version:
            self.frames.clear()
        self.order_version = order_version
        self.length = length

    def saw_read(self, message: dict[str, Any]) -> None:
        """Take the counters and the frames' ids and versions from a read response."""
        self.saw_order(int(message["order_version"]), int(message["length"]))
        versions = message["versions"].tolist()
        self.frames.update(zip(message["indices"].tolist(), zip(message["ids"], versions)))

    def saw_insert(self, base: int, reply: dict[str, Any]) -> None:
        known = self.length is not None and self.order_version == base
        self.saw_order(reply["order_version"], self.length + reply["count"] if known else None)

    def forget(self) -> None:
        """After a change whose effect is not known here (undo, redo)."""
        self.order_version = self.length = None
        self.frames.clear()
