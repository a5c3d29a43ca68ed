"""The room's ``order`` lease, held by one client and renewed in the background."""

from __future__ import annotations

import threading
from types import TracebackType

from ..errors import ZnDrawError
from .http import HttpClient


class OrderLease:
    """A re-entrant context manager holding the ``order`` lease of one room.

    Taken on the outermost ``__enter__`` (``LockedError`` naming the holder if another
    session has it), renewed every ``ttl / 3`` seconds by a daemon thread, and released on
    the outermost ``__exit__``, also after an exception.
    """

    def __init__(self, http: HttpClient, path: str, ttl: float) -> None:
        self._http = http
        self._path = path
        self._ttl = ttl
        self._depth = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.renew_error: Exception | None = None

    @property
    def held(self) -> bool:
        return self._depth > 0

    def __enter__(self) -> OrderLease:
        if self._depth == 0:
            self._take()
            self._stop.clear()
            self.renew_error = None
            self._thread = threading.Thread(target=self._renew, name="zndraw-lease",
                                            daemon=True)
            self._thread.start()
        self._depth += 1
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            try:
                self._http.json("DELETE", self._path, retry=True)
            except ZnDrawError:
                if kind is None:
                    raise

    def _take(self) -> None:
        self._http.json("POST", self._path, json_body={"ttl": self._ttl}, retry=True)

    def _renew(self) -> None:
        while not self._stop.wait(self._ttl / 3):
            try:
                self._take()
            except ZnDrawError as error:  # the next write reports the lost lease
                self.renew_error = error
                return
