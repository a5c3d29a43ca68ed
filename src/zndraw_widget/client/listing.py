"""``rooms()``: the rooms of a zndraw server."""

from __future__ import annotations

from typing import Any

from .discovery import discover
from .http import HttpClient
from .room import new_session_id

PAGE = 1000  # rooms per request (the server's largest page)


def rooms(url: str | None = None, token: str | None = None) -> list[dict[str, Any]]:
    """Every room of the server (found as :class:`Room` finds it), sorted by name: a dict
    of ``name``, ``length``, ``owner`` (None where the server records none), ``created``
    (unix time), ``description`` and ``ephemeral`` (deleted a while after the last view
    and kernel left it, unless kept) each."""
    http = HttpClient(discover(url, token), new_session_id())
    try:
        found: list[dict[str, Any]] = []
        while True:
            page = http.json("GET", "rooms", params={"offset": len(found), "limit": PAGE})
            found.extend(page["rooms"])
            if not page["rooms"] or len(found) >= page["total"]:
                break
    finally:
        http.close()
    return [{"name": room["name"], "length": room["length"], "owner": room.get("owner"),
             "created": room["created"], "description": room.get("description", ""),
             "ephemeral": room.get("expires") is not None} for room in found]
