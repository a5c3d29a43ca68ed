"""What the control channel says about one room, applied in ``seq`` order.

Data events invalidate the :class:`FrameCache`; every event goes to the room's on_change
callbacks. A gap in ``seq`` or a reconnect is filled from ``GET rooms/<r>/events?since=``;
when that is impossible (``reload``, an error) the cache is cleared. All of it runs in the
link thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..errors import ZnDrawError
from .frame_cache import FrameCache
from .http import HttpClient

log = logging.getLogger(__name__)

DATA_EVENTS = frozenset({"frames_inserted", "frames_deleted", "frames_spliced",
                         "frame_updated"})

Callback = Callable[[dict[str, Any]], None]


class RoomFeed:
    """The room's ``seq`` and ``step`` as last heard, and its on_change callbacks."""

    def __init__(self, room: str, http: HttpClient, path: str, cache: FrameCache) -> None:
        self._room = room
        self._http = http  # its own client: used from the link thread only
        self._path = path
        self._cache = cache
        self.seq: int | None = None  # the last data change applied
        self.step: int | None = None  # None while not joined: ask the server
        self._waiting: list[dict[str, Any]] | None = []  # events before the join reply
        self._callbacks: list[Callback] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- callbacks --------------------------------------------------------------------------
    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event from now on; returns its remover."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def _emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(dict(event))
            except Exception:  # one broken callback does not stop the others
                log.exception("an on_change callback of room %s failed", self._room)

    # -- the link's handler -----------------------------------------------------------------
    def joined(self, reply: dict[str, Any]) -> None:
        info = reply["room"]
        self.step = info["step"]
        waiting, self._waiting = self._waiting or [], None
        if self.seq is None:  # the first join: nothing was cached before it
            self.seq = info["seq"]
            resync = None
        elif info["seq"] < self.seq:  # the room was replaced meanwhile
            self._reload(info["seq"])
            resync = True
        else:
            resync = self._catch_up(info["seq"]) if info["seq"] > self.seq else False
        for message in waiting:
            self.event(message)
        self._cache.set_live(True)
        if resync is not None:
            self._emit({"type": "resync", "room": self._room, "seq": self.seq,
                        "reload": resync, "step": self.step})

    def lost(self) -> None:
        self._cache.set_live(False)
        self._waiting = []
        self.step = None

    def event(self, message: dict[str, Any]) -> None:
        if self._waiting is not None:
            self._waiting.append(message)
            return
        kind = message.get("type")
        if kind in DATA_EVENTS:
            seq = message["seq"]
            if seq == self.seq + 1:
                self._apply(message)
            elif seq > self.seq + 1:  # missed changes: this one comes with them
                reload = self._catch_up(seq)
                self._emit({"type": "resync", "room": self._room, "seq": self.seq,
                            "reload": reload, "step": self.step})
            return  # else: applied already while catching up
        if kind == "step":
            self.step = message["step"]
        elif kind == "room_deleted":
            self._reload(0)  # a room made under the same name starts at seq 0
        elif kind == "resync":  # the server lost its own feed of the room
            message = {**message, "reload": self._catch_up(self.seq)}
        self._emit(message)

    # -- applying ---------------------------------------------------------------------------
    def _apply(self, event: dict[str, Any]) -> None:
        self.seq = event["seq"]
        if event["type"] == "frame_updated":
            self._cache.changed_frame(event["frame"])
        else:
            self._cache.changed_order(event.get("length"))
        self._emit(event)

    def _reload(self, seq: int) -> None:
        """Forget everything cached by position; ``seq`` is the new starting point."""
        self._cache.changed_order(None)
        self.seq = seq

    def _catch_up(self, seq: int) -> bool:
        """Apply the data changes after ``self.seq`` (the server is at least at ``seq``);
        True when they could not be known and the cache was cleared instead."""
        try:
            reply = self._http.json("GET", f"{self._path}/events", params={"since": self.seq})
        except (ZnDrawError, ConnectionError) as error:
            log.warning("resynchronising room %s failed (%s): its cache is cleared",
                        self._room, error)
            self._reload(max(seq, self.seq))
            return True
        if reply["reload"]:
            self._reload(max(seq, reply["seq"]))
            return True
        for event in reply["events"]:
            if event["seq"] > self.seq:
                self._apply(event)
        self.seq = max(self.seq, reply["seq"])
        return False
