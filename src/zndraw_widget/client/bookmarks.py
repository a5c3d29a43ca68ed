"""``Bookmarks``: a room's named (frame, camera) pairs as a mapping, kept on the server and
shown in every view of the room (docs/client.md)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import quote

from ..errors import NotFound
from .http import HttpClient


class Bookmarks(MutableMapping[str, dict[str, Any]]):
    """``room.bookmarks``: ``{name: {"frame": int, "camera": dict or None}}``, read from and
    written to the server at each access.

    ``room.bookmarks["start"] = 0`` bookmarks frame 0 (negative indices count from the end);
    ``room.bookmarks["side"] = {"frame": 3, "camera": viewer.camera}`` adds where to look
    from (the view's camera state: ``position``, ``target``, ``up``, ``fov``, ...; a small
    object of numbers). ``del room.bookmarks["start"]`` removes one. Writing needs write
    access to the room.
    """

    def __init__(self, http: HttpClient, path: str, length: Callable[[], int]) -> None:
        self._http = http
        self._path = f"{path}/bookmarks"
        self._length = length

    def _all(self) -> dict[str, dict[str, Any]]:
        return self._http.json("GET", self._path)["bookmarks"]

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __setitem__(self, name: str, value: int | dict[str, Any]) -> None:
        bookmark = {"frame": value} if not isinstance(value, dict) else dict(value)
        try:
            frame = operator.index(bookmark.get("frame"))
        except TypeError:
            raise TypeError("a bookmark is a frame index or {'frame': index, 'camera': "
                            "{...}}") from None
        bookmark["frame"] = frame + self._length() if frame < 0 else frame
        self._http.json("PUT", f"{self._path}/{quote(name, safe='')}", json_body=bookmark,
                        retry=True)  # the same PUT twice is one bookmark

    def __delitem__(self, name: str) -> None:
        try:
            self._http.json("DELETE", f"{self._path}/{quote(name, safe='')}")
        except NotFound:
            raise KeyError(name) from None

    def __repr__(self) -> str:
        return f"Bookmarks({self._all()!r})"
