"""Control-channel benchmarks against live standalone servers on loopback.

Prints each figure beside the machine's own ceiling measured in the same run: a bare
Tornado websocket server broadcasting the same small message to the same clients.

    python benchmarks/bench_control.py [--quick]

Figures (goals from the project's issue):
- frame_updated fan-out to 100 clients, from sending the write (an HTTP PUT whose content is
  already stored, so no storage write) until the last client has the event: p50/p95
  (goal p95 <= 10 ms on one process; <= 20 ms across two processes through Redis);
- lease acquire + release round trip over the websocket: p50 (goal <= 1 ms default store,
  <= 2 ms Redis);
- join_room (its reply: the room, leases, presence, selections, bookmarks) over the
  websocket: p50, the default store and Redis (no goal: the store round trips it takes);
- a presenter sending set_room_frame at 60 Hz with 10 watchers: the watchers' lag in frames
  (goal <= 2) early and late in the run (a growing queue would show as a growing lag).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack
import numpy as np
from tornado import httpclient, httpserver, netutil, web, websocket

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import ServerProcess, start_redis  # noqa: E402  (the tests' helpers)

TOKEN = "bench-token"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


# -- the ceiling: a bare tornado broadcast ---------------------------------------------------
class _Broadcast(websocket.WebSocketHandler):
    clients: set = set()

    def open(self) -> None:
        self.clients.add(self)

    def on_close(self) -> None:
        self.clients.discard(self)

    def on_message(self, message) -> None:
        for client in list(self.clients):
            client.write_message(message, binary=True)


def _run_bare_server() -> None:
    async def main() -> None:
        app = web.Application([(r"/ws", _Broadcast)])
        sockets = netutil.bind_sockets(0, "127.0.0.1")
        httpserver.HTTPServer(app).add_sockets(sockets)
        print(sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def bare_fanout(clients: int, rounds: int) -> list[float]:
    process = subprocess.Popen([sys.executable, __file__, "--bare-server"],
                               stdout=subprocess.PIPE, text=True)
    try:
        url = f"ws://127.0.0.1:{process.stdout.readline().strip()}/ws"
        connections = [await websocket.websocket_connect(url) for _ in range(clients)]
        latencies = []
        for _ in range(rounds):
            start = time.perf_counter()
            await connections[0].write_message(msgpack.packb({"type": "x"}), binary=True)
            await asyncio.gather(*(c.read_message() for c in connections))
            latencies.append((time.perf_counter() - start) * 1e3)
        for connection in connections:
            connection.close()
        return latencies
    finally:
        process.kill()


# -- zndraw -----------------------------------------------------------------------------------
class Client:
    def __init__(self, connection) -> None:
        self.connection = connection
        self.next_id = 0

    @classmethod
    async def open(cls, server: ServerProcess, session: str) -> Client:
        request = httpclient.HTTPRequest(
            server.url.replace("http", "ws") + f"ws?session={session}",
            headers={"Authorization": f"token {TOKEN}"})
        client = cls(await websocket.websocket_connect(request))
        await client.read()  # hello
        return client

    async def read(self) -> dict:
        return msgpack.unpackb(await self.connection.read_message())

    async def request(self, kind: str, **fields) -> dict:
        self.next_id += 1
        await self.connection.write_message(
            msgpack.packb({"type": kind, "id": self.next_id, **fields}), binary=True)
        while True:
            message = await self.read()
            if message.get("type") == "reply" and message.get("id") == self.next_id:
                if not message["ok"]:
                    raise RuntimeError(f"{kind} failed: {message}")
                return message

    async def until(self, kind: str) -> dict:
        while True:
            message = await self.read()
            if message.get("type") == kind:
                return message


async def http(server: ServerProcess, method: str, path: str, body=None, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return await httpclient.AsyncHTTPClient().fetch(
        server.url + path + ("?" + query if query else ""), method=method, body=body,
        headers={"Authorization": f"token {TOKEN}"}, allow_nonstandard_methods=True)


async def fanout(writer: ServerProcess, servers: list[ServerProcess], clients: int,
                 rounds: int) -> list[float]:
    from zndraw_widget import codec

    room = f"fan{time.monotonic_ns()}"
    await http(writer, "POST", "rooms", json.dumps({"name": room, "base": None}))
    frame = {"data": {"positions": {"values": np.zeros((1, 10, 3))},
                      "numbers": {"values": np.ones((1, 10), dtype=np.int64)}}}
    await http(writer, "POST", f"rooms/{room}/frames", codec.encode(frame), base_version=0)
    connections = []
    for k in range(clients):
        client = await Client.open(servers[k % len(servers)], f"c{k}")
        await client.request("join_room", room=room)
        connections.append(client)
    # Alternate between two stored contents: the write is then a pure state commit (its data
    # is deduplicated), so the figure is the commit plus the fan-out, not a storage write.
    bodies = [codec.encode({"data": {"positions": {"values": np.full((1, 10, 3), float(k))},
                                     "numbers": {"values": np.ones((1, 10), dtype=np.int64)}}})
              for k in (1, 2)]
    for version in (1, 2):
        await http(writer, "PUT", f"rooms/{room}/frames/0", bodies[version - 1],
                   base_version=version)
        await asyncio.gather(*(c.until("frame_updated") for c in connections))
    latencies = []
    for version in range(3, rounds + 3):
        start = time.perf_counter()
        write = http(writer, "PUT", f"rooms/{room}/frames/0", bodies[version % 2],
                     base_version=version)
        await asyncio.gather(write, *(c.until("frame_updated") for c in connections))
        latencies.append((time.perf_counter() - start) * 1e3)
    for client in connections:
        client.connection.close()
    return latencies


async def lease_round_trip(server: ServerProcess, rounds: int) -> list[float]:
    room = f"lease{time.monotonic_ns()}"
    await http(server, "POST", "rooms", json.dumps({"name": room, "base": None}))
    client = await Client.open(server, "leaser")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await client.request("lock_request", room=room, target="order")
        await client.request("lock_release", room=room, target="order")
        times.append((time.perf_counter() - start) * 1e3)
    client.connection.close()
    return times


async def join_round_trip(server: ServerProcess, rounds: int, leave: bool = True
                          ) -> list[float]:
    """ms of ``join_room`` in a room with a selection, each followed by ``leave_room`` (else
    joined again: the reads of a join without its subscription)."""
    room = f"join{time.monotonic_ns()}"
    await http(server, "POST", "rooms", json.dumps({"name": room, "base": None}))
    await http(server, "PUT", f"rooms/{room}/selection", json.dumps({"atoms": [0, 1]}))
    client = await Client.open(server, "joiner")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await client.request("join_room", room=room)
        times.append((time.perf_counter() - start) * 1e3)
        if leave:
            await client.request("leave_room", room=room)
    client.connection.close()
    return times


async def presenter(server: ServerProcess, watchers: int, seconds: float) -> tuple[int, int, int]:
    """(frames sent, max lag in the first fifth, max lag in the last fifth)."""
    room = f"show{time.monotonic_ns()}"
    await http(server, "POST", "rooms", json.dumps({"name": room, "base": None}))
    lead = await Client.open(server, "lead")
    await lead.request("join_room", room=room)
    await lead.request("request_presenter_token", room=room)
    watching = []
    for k in range(watchers):
        client = await Client.open(server, f"w{k}")
        await client.request("join_room", room=room)
        watching.append(client)
    sent_at: list[float] = []
    received: list[tuple[float, int]] = []
    done = asyncio.Event()

    async def watch(client: Client) -> None:
        while not done.is_set():
            message = await client.read()
            if message.get("type") == "step":
                received.append((time.perf_counter(), message["step"]))

    tasks = [asyncio.create_task(watch(c)) for c in watching]
    start = time.perf_counter()
    frame = 0
    while time.perf_counter() - start < seconds:
        sent_at.append(time.perf_counter())
        await lead.connection.write_message(
            msgpack.packb({"type": "set_room_frame", "room": room, "frame": frame}), binary=True)
        frame += 1
        if frame % 60 == 0:
            await lead.request("renew_presenter_token", room=room)
        await asyncio.sleep(max(0.0, start + frame / 60 - time.perf_counter()))  # 60 Hz pacing
    await asyncio.sleep(0.2)  # let the last events arrive before stopping the watchers
    done.set()
    for task in tasks:
        task.cancel()
    sent = np.array(sent_at)
    lags = [(t, int(np.searchsorted(sent, t)) - 1 - f) for t, f in received]
    fifth = seconds / 5
    early = max((lag for t, lag in lags if t - start < fifth), default=0)
    late = max((lag for t, lag in lags if t - start > seconds - fifth), default=0)
    for client in [lead, *watching]:
        client.connection.close()
    return frame, early, late


def row(name: str, value: str, ceiling: str, ratio: str, goal: str, ok: bool | None) -> None:
    mark = "" if ok is None else ("pass" if ok else "MISS")
    print(f"{name:<48} {value:>16} {ceiling:>14} {ratio:>8}  {goal:<16} {mark}")


async def main(quick: bool) -> None:
    rounds = 30 if quick else 200
    seconds = 5 if quick else 30
    work = Path(tempfile.mkdtemp(prefix="zndraw-bench-"))
    servers: list[ServerProcess] = []
    redis = None
    try:
        one = ServerProcess(work / "one", token=TOKEN)
        servers.append(one)
        bare = await bare_fanout(100, rounds)
        single = await fanout(one, [one], 100, rounds)
        leases = await lease_round_trip(one, rounds)
        joins = await join_round_trip(one, rounds)
        sent, early, late = await presenter(one, 10, seconds)

        print(f"{'figure':<48} {'value':>16} {'ceiling':>14} {'ratio':>8}  {'goal':<16}")
        base50, base95 = percentile(bare, 50), percentile(bare, 95)
        row("bare tornado broadcast to 100 clients p50/p95", f"{base50:.2f}/{base95:.2f} ms",
            "", "", "(ceiling)", None)
        p50, p95 = percentile(single, 50), percentile(single, 95)
        row("frame_updated fan-out x100, one process p50/p95", f"{p50:.2f}/{p95:.2f} ms",
            f"{base95:.2f} ms", f"{p95 / base95:.1f}x", "p95 <= 10 ms", p95 <= 10)
        lease50 = percentile(leases, 50)
        row("lease acquire+release, default store p50", f"{lease50:.3f} ms", "", "",
            "<= 1 ms", lease50 <= 1)
        row("join_room, default store p50", f"{percentile(joins, 50):.3f} ms", "", "", "-",
            None)
        row(f"presenter 60 Hz x10 watchers {seconds}s: lag early/late",
            f"{early}/{late} frames", f"{sent} sent", "", "<= 2 frames", max(early, late) <= 2)

        if shutil.which("redis-server") is None:
            print("(Redis figures skipped: redis-server is not installed)")
            return
        redis = start_redis(work, "--appendonly", "yes")
        env = {"ZNDRAW_REDIS_URL": redis[1]}
        a = ServerProcess(work / "shared", token=TOKEN, env=env)
        b = ServerProcess(work / "shared", token=TOKEN, env=env)
        servers += [a, b]
        across = await fanout(a, [a, b], 100, rounds)
        redis_leases = await lease_round_trip(a, rounds)
        redis_joins = await join_round_trip(a, rounds)
        p50, p95 = percentile(across, 50), percentile(across, 95)
        row("frame_updated fan-out x100, 2 procs+Redis p50/p95", f"{p50:.2f}/{p95:.2f} ms",
            f"{base95:.2f} ms", f"{p95 / base95:.1f}x", "p95 <= 20 ms", p95 <= 20)
        lease50 = percentile(redis_leases, 50)
        row("lease acquire+release, Redis p50", f"{lease50:.3f} ms", "", "", "<= 2 ms",
            lease50 <= 2)
        row("join_room, Redis p50", f"{percentile(redis_joins, 50):.3f} ms", "", "", "-", None)
    finally:
        for server in servers:
            server.stop()
        if redis is not None:
            redis[0].kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 5 s presenter run")
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        _run_bare_server()
    else:
        asyncio.run(main(args.quick))
