"""Who is asking: the identity every room operation is done on behalf of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    """An authenticated user as the server's authentication knows them: the ``name``, the
    ``groups`` they belong to and whether they are a server ``admin``."""

    name: str
    groups: frozenset[str] = frozenset()
    admin: bool = False


@dataclass(frozen=True)
class Caller:
    """The authenticated ``user``, the ``groups`` they belong to, and the ``session`` (one
    client of that user) that owns leases and undo history; an ``admin`` (a server admin)
    sees and may do everything."""

    user: str
    groups: frozenset[str]
    session: str
    admin: bool = False
