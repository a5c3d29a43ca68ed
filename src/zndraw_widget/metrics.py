"""A server process's metrics, in the Prometheus text format (``GET zndraw/api/metrics``).

Counters and histograms are updated where things happen (requests, commits, refused
writes, event fan-out); the gauges of the whole deployment (rooms, frames, stored bytes)
and of this process (control connections) are computed when scraped. Each process has its
own :class:`Metrics` on its own registry (not the global one: one Python process may run
several servers, e.g. in tests).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .errors import Conflict, Locked

if TYPE_CHECKING:
    from .hub import Hub
    from .room_service import RoomService

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: bucket bounds (seconds) of the latency histograms: 1 ms to 30 s
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The metrics of one server process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Histogram(
            "zndraw_request_duration_seconds",
            "HTTP requests by route (the handler), method and status: seconds to answer",
            ["route", "method", "status"], buckets=BUCKETS, registry=registry)
        self.commits = Counter("zndraw_commits", "frame changes committed, by operation",
                               ["op"], registry=registry)
        self.conflicts = Counter("zndraw_conflicts",
                                 "writes refused as based on a stale version (409)",
                                 registry=registry)
        self.lease_waits = Counter(
            "zndraw_lease_waits",
            "writes and lease requests refused because another session holds the lease (423)",
            registry=registry)
        self.fanout = Histogram(
            "zndraw_event_fanout_seconds",
            "seconds from the commit that created a room event (its time, by the store's "
            "clock) to this process handing it to every control connection in the room",
            buckets=BUCKETS, registry=registry)
        self.connections = Gauge("zndraw_websocket_connections",
                                 "control connections open to this process", registry=registry)
        self.rooms = Gauge("zndraw_rooms", "rooms of the deployment", registry=registry)
        self.frames = Gauge("zndraw_frames", "frames in all rooms of the deployment",
                            registry=registry)
        self.stored_bytes = Gauge("zndraw_stored_bytes",
                                  "bytes of frame data under the storage path",
                                  registry=registry)

    def refused(self, error: Exception) -> None:
        """A request was refused with ``error``: count conflicts and lease waits."""
        if isinstance(error, Conflict):
            self.conflicts.inc()
        elif isinstance(error, Locked):
            self.lease_waits.inc()

    async def scrape(self, service: RoomService, hub: Hub) -> bytes:
        """The text format, with the gauges computed now."""
        from .room_service import EVERY_ROOM, in_thread

        total, rooms = await service.store.list_rooms(0, EVERY_ROOM)
        self.rooms.set(total)
        self.frames.set(sum(room.length for room in rooms))
        self.stored_bytes.set(await in_thread(service.storage.stored_bytes))
        self.connections.set(hub.connection_count)
        return generate_latest(self.registry)


def token_matches(expected: str, authorization: str) -> bool:
    """Whether the ``Authorization: Bearer <token>`` header carries ``expected`` (compared
    in constant time)."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              expected.encode())
