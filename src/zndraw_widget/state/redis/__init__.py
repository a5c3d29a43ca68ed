"""Room state in Redis: :class:`RedisStore` (``store.py``) runs the Lua scripts of ``lua/``
(loaded by ``scripts.py``)."""

from .store import RedisStore

__all__ = ["RedisStore"]
