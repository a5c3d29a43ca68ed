"""Errors of the core. Each carries the HTTP status the server answers it with."""

from __future__ import annotations

import errno
import reprlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ZnDrawError(Exception):
    """Base class: ``status`` is the HTTP status, ``details`` extra JSON fields."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class BadRequest(ZnDrawError, ValueError):
    """The request or its data is malformed."""

    status = 400
    code = "bad_request"


class Unauthorized(ZnDrawError):
    status = 401
    code = "unauthorized"


class Forbidden(ZnDrawError):
    """The caller may not do this to this room."""

    status = 403
    code = "forbidden"


class NotFound(ZnDrawError, LookupError):
    status = 404
    code = "not_found"


class Conflict(ZnDrawError):
    """A write was based on a version that is no longer current."""

    status = 409
    code = "conflict"

    @property
    def current_version(self) -> int | None:
        return self.details.get("current_version")


class AlreadyExists(ZnDrawError):
    status = 409
    code = "already_exists"


class PayloadTooLarge(ZnDrawError):
    status = 413
    code = "payload_too_large"


class KeyReused(ZnDrawError):
    """An idempotency key came again with a different request."""

    status = 422
    code = "idempotency_key_reused"


class Locked(ZnDrawError):
    """Someone else holds the lease the write needs."""

    status = 423
    code = "locked"

    @property
    def holder(self) -> str | None:
        return self.details.get("holder")


class RateLimited(ZnDrawError):
    """A client sends faster than the server accepts."""

    status = 429
    code = "rate_limited"


class Unavailable(ZnDrawError):
    """The server cannot serve rooms (e.g. its configuration is inconsistent)."""

    status = 503
    code = "unavailable"


class BackendUnavailable(Unavailable):
    """The state backend (Redis) cannot be reached; the request may be retried later."""

    code = "backend_unavailable"


class InsufficientStorage(ZnDrawError):
    """The disk (or the quota) holding the server's data is full: nothing was changed."""

    status = 507
    code = "insufficient_storage"


FULL = (errno.ENOSPC, errno.EDQUOT)


class _Cut(reprlib.Repr):
    """A repr that looks at no more of a value than it shows: strings and bytes up to
    ``limit`` characters (their ends kept), containers their first few items, three deep."""

    def __init__(self, limit: int) -> None:
        super().__init__()  # sets the defaults: 6 items of a list, 4 of a dict, ...
        self.maxstring = self.maxother = self.maxlong = limit
        self.maxlevel = 3

    repr_bytes = reprlib.Repr.repr_str

    def repr1(self, x: Any, level: int) -> str:
        # reprlib picks its method by the type's name: a bytearray, or a subclass of str or
        # bytes (numpy.str_), would be repr'd whole; as a plain copy it is cut like one
        if isinstance(x, str) and type(x) is not str:
            x = str.__str__(x)
        elif isinstance(x, (bytes, bytearray)) and type(x) is not bytes:
            x = bytes(x)
        return super().repr1(x, level)


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` for an error message, about ``limit`` characters at most; a huge
    value is never repr'd whole."""
    text = _Cut(limit).repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


@contextmanager
def storage_full(what: str) -> Iterator[None]:
    """Raise :class:`InsufficientStorage` where ``what`` (a write) fails for want of space."""
    try:
        yield
    except OSError as error:
        if error.errno in FULL:
            raise InsufficientStorage(f"{what} failed: {error.strerror}") from error
        raise
