"""What the access rules cost: the same figures with the rules on and with AllowAll.

Starts two standalone servers on one users file: one as shipped (rooms' owners and grants
decide), one whose policy lets everything through (AllowAll, patched in at start: no
setting turns the rules off). Measured in turn on both, so that load from elsewhere on the
machine weighs on both alike:

- 1k-atom frame reads by a user with a group grant (first read of each frame, repeated);
- frame_updated fan-out to 100 clients (as in ``bench_control.py``, by the room's owner);
- in process, without the network: a cached 1k-atom frame read and a frame write through
  ``RoomService`` (the policy's own cost, the fastest of ten blocks each).

Goal: the rules cost at most 10 % over AllowAll.

    python benchmarks/bench_access.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import bench_control
import numpy as np
from bench_data_channel import API, Client, Room, start_process, stop_process, timed

from zndraw_widget.users import UsersFile

ALLOW_ALL = ("import sys; from zndraw_widget import policy, rooms; "
             "rooms.AccessPolicy = lambda store: policy.AllowAll(); "
             "from zndraw_widget.cli import main; sys.exit(main(sys.argv[1:]))")


class Server:
    """A standalone server process: with the access rules, or with AllowAll."""

    def __init__(self, storage: Path, users: Path, allow_all: bool) -> None:
        launch = ["-c", ALLOW_ALL] if allow_all else ["-m", "zndraw_widget"]
        self.process, match = start_process(
            [sys.executable, *launch, "serve", "--port", "0", "--storage", str(storage),
             "--users", str(users)], r"serving on (http://127\.0\.0\.1:(\d+))/")
        self.port = int(match.group(2))
        self.url = match.group(1) + API + "/"

    def stop(self) -> None:
        stop_process(self.process)


def shared_room(server: Server, tokens: dict[str, str], rng: np.random.Generator) -> Room:
    """ann's room of 1,000 frames of 1,000 atoms, readable by the group lab; as ben sees it."""
    owner = Client(server.port, tokens["ann"])
    room = Room(owner, "thousand")
    room.extend(1000, 1000, 100, rng)
    owner.json("PUT", f"{API}/rooms/thousand/access", {"grants": {"group:lab": "read"}})
    reader = Room.__new__(Room)
    reader.client, reader.name = Client(server.port, tokens["ben"]), "thousand"
    return reader


async def in_process(reads: int) -> list[list[float]]:
    """Seconds per cached 1k-atom frame read and per frame write (content already stored:
    a pure state commit), through RoomService with the rules and with AllowAll; the
    fastest of several blocks of each, measured in turn. No network: the policy's own cost."""
    from zndraw_widget.caller import Caller
    from zndraw_widget.frames import Column, FrameBatch
    from zndraw_widget.policy import AllowAll
    from zndraw_widget.room_service import RoomService
    from zndraw_widget.state import MemoryStore
    from zndraw_widget.storage import ZarrProvider

    ann, ben = Caller("ann", frozenset(), "a"), Caller("ben", frozenset({"lab"}), "b")
    bodies = [FrameBatch({"positions": Column(values=np.full((1, 1000, 3), float(k))),
                          "numbers": Column(values=np.ones((1, 1000), dtype=np.int64))}, 1)
              for k in (0, 1)]
    services = []
    with tempfile.TemporaryDirectory() as work:
        for policy in (None, AllowAll()):
            service = RoomService(MemoryStore(), ZarrProvider(Path(work) / str(len(services))),
                                  policy=policy)
            await service.create_room(ann, "r", None)
            await service.insert(ann, "r", bodies[0], index=None, order_base=0)
            await service.insert(ann, "r", bodies[1], index=None, order_base=1)  # stored
            await service.set_access(ann, "r", {"group:lab": "write"})
            services.append(service)
        best: list[list[float]] = [[1.0, 1.0], [1.0, 1.0]]  # [rules, allow] x [read, write]
        versions = [1, 1]
        for _ in range(10):
            for k, service in enumerate(services):
                start = asyncio.get_running_loop().time()
                for _ in range(reads):
                    await service.read(ben, "r", [0])
                best[k][0] = min(best[k][0], (asyncio.get_running_loop().time() - start) / reads)
                start = asyncio.get_running_loop().time()
                for _ in range(reads // 10):
                    await service.replace(ben, "r", 0, bodies[versions[k] % 2],
                                          base_version=versions[k])
                    versions[k] += 1
                best[k][1] = min(best[k][1],
                                 (asyncio.get_running_loop().time() - start) / (reads // 10))
    return best


def row(name: str, rules: float, allow: float, unit: str) -> None:
    ratio = rules / allow
    mark = "pass" if ratio <= 1.10 else "MISS"
    print(f"{name:<44} {rules:>9.3f} {allow:>9.3f} {unit:<3} {ratio:>6.2f}x  <= 1.10x {mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer reads and rounds")
    quick = parser.parse_args().quick
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="zndraw-bench-access-") as work:
        users = Path(work) / "users.json"
        file = UsersFile(users)
        tokens = {"ann": file.add("ann"), "ben": file.add("ben", ["lab"])}
        servers = [Server(Path(work) / "rules", users, False),
                   Server(Path(work) / "allow", users, True)]
        try:
            print("... 1k-atom frames", file=sys.stderr, flush=True)
            rooms = [shared_room(server, tokens, rng) for server in servers]
            times: dict[str, list[list[float]]] = {"first": [[], []], "repeated": [[], []]}
            for label in ("first", "repeated"):
                for i in rng.choice(1000, 100 if quick else 400, replace=False):
                    for k, room in enumerate(rooms):
                        times[label][k].append(timed(lambda r=room, i=i: r.read(f"index={i}")))
            print("... in process", file=sys.stderr, flush=True)
            (read_rules, write_rules), (read_allow, write_allow) = asyncio.run(
                in_process(200 if quick else 1000))
            print("... fan-out", file=sys.stderr, flush=True)
            bench_control.TOKEN = tokens["ben"]
            fanouts: list[list[float]] = [[], []]
            for turn in range(2 if quick else 4):  # in turns, each going first in one
                for k in (0, 1) if turn % 2 == 0 else (1, 0):
                    fanouts[k] += asyncio.run(bench_control.fanout(
                        servers[k], [servers[k]], 100, 30 if quick else 50))
        finally:
            for server in servers:
                server.stop()
    print(f"{'figure':<44} {'rules':>9} {'AllowAll':>9} {'':<3} {'ratio':>7}  goal")
    for label, (rules, allow) in times.items():
        row(f"1k-atom frame read, {label} (median)", statistics.median(rules) * 1e3,
            statistics.median(allow) * 1e3, "ms")
    row("in process: cached 1k-atom frame read", read_rules * 1e6, read_allow * 1e6, "us")
    row("in process: frame write (state commit)", write_rules * 1e6, write_allow * 1e6, "us")
    for q in (50, 95):
        row(f"frame_updated fan-out x100 p{q}", bench_control.percentile(fanouts[0], q),
            bench_control.percentile(fanouts[1], q), "ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
