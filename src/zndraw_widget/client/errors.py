"""Errors the kernel-side client raises, beside the core ones it re-raises from the server."""

from __future__ import annotations

from ..errors import Conflict, Locked, NotFound, ZnDrawError


class ConflictError(Conflict):
    """A write was based on a version that is no longer current (HTTP 409).

    ``current_version`` is the version the server holds now: re-read and try again.
    """


class LockedError(Locked):
    """Another session holds the lease the write needs (HTTP 423); ``holder`` names it."""


class RoomNotFoundError(NotFound):
    """The room does not exist (and was not to be created)."""


class ServerNotFoundError(ZnDrawError, ConnectionError):
    """No server was configured, or the configured one cannot be reached."""


class AuthenticationError(ZnDrawError, PermissionError):
    """The server refused the credentials (HTTP 401 or 403)."""
