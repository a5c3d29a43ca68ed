"""Sessions belong to users: a session id is bound to the first user that uses it.

A session owns leases and undo history, so a client naming another user's session id
must not act as that session. The store keeps the bindings (shared by every process);
each process remembers the ones it confirmed, so a session in use costs no store round
trip after its first use (re-confirmed, which renews it, every quarter of the binding's
lifetime).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from .caller import Caller
from .state.base import Store
from .state.failures import Failure

BINDING_TTL = 24 * 3600.0  # seconds a binding lasts unless renewed by use
USER_SESSION = "user:"  # the session of a client that names none: "user:<name>"


class SessionClaims:
    """Claims callers' sessions in ``store``, remembering up to ``size`` confirmed ones."""

    def __init__(self, store: Store, ttl: float = BINDING_TTL, size: int = 100_000) -> None:
        self.store = store
        self.ttl = ttl
        self.size = size
        self._confirmed: OrderedDict[tuple[str, str], float] = OrderedDict()

    async def claim(self, caller: Caller) -> None:
        """Return if ``caller.session`` is (now) bound to ``caller.user``, else raise
        ``Forbidden``."""
        session, user = caller.session, caller.user
        if session.startswith(USER_SESSION):  # named after its user: nobody else's
            if session != USER_SESSION + user:
                raise Failure.SESSION_TAKEN.error(session=session)
            return
        key, now = (session, user), time.monotonic()
        confirmed = self._confirmed.get(key)
        if confirmed is not None and now - confirmed < self.ttl / 4:
            self._confirmed.move_to_end(key)
            return
        await self.store.claim_session(session, user, self.ttl)
        self._confirmed[key] = now
        self._confirmed.move_to_end(key)
        if len(self._confirmed) > self.size:
            self._confirmed.popitem(last=False)
