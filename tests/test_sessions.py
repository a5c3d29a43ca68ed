"""Sessions belong to users; each process remembers the bindings it confirmed."""

from __future__ import annotations

import pytest

from zndraw_widget.caller import Caller
from zndraw_widget.errors import Forbidden
from zndraw_widget.sessions import SessionClaims
from zndraw_widget.state import MemoryStore


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.claims = 0

    async def claim_session(self, session: str, user: str, ttl: float) -> None:
        self.claims += 1
        await super().claim_session(session, user, ttl)


@pytest.mark.asyncio
async def test_a_confirmed_binding_costs_no_store_round_trip():
    store = CountingStore()
    claims = SessionClaims(store)
    alice = Caller("alice", frozenset(), "tab-1")
    for _ in range(3):
        await claims.claim(alice)
    assert store.claims == 1
    with pytest.raises(Forbidden, match="belongs to another user"):
        await SessionClaims(store).claim(Caller("bob", frozenset(), "tab-1"))  # another process
    with pytest.raises(Forbidden, match="belongs to another user"):
        await claims.claim(Caller("bob", frozenset(), "tab-1"))


@pytest.mark.asyncio
async def test_a_users_own_session_is_theirs_alone_without_a_store_round_trip():
    store = CountingStore()
    claims = SessionClaims(store)
    await claims.claim(Caller("alice", frozenset(), "user:alice"))
    with pytest.raises(Forbidden):
        await claims.claim(Caller("bob", frozenset(), "user:alice"))
    assert store.claims == 0


@pytest.mark.asyncio
async def test_the_cache_forgets_the_least_recently_used_binding():
    store = CountingStore()
    claims = SessionClaims(store, size=2)
    callers = [Caller("alice", frozenset(), f"tab-{k}") for k in range(3)]
    for caller in callers:
        await claims.claim(caller)
    await claims.claim(callers[2])
    assert store.claims == 3
    await claims.claim(callers[0])  # forgotten: asked again
    assert store.claims == 4
