"""Who is asking: the identity every room operation is done on behalf of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """The authenticated ``user``, the ``groups`` they belong to, and the ``session`` (one
    client of that user) that owns leases and undo history."""

    user: str
    groups: frozenset[str]
    session: str
