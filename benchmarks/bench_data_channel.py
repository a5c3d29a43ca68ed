"""Benchmark the HTTP data channel of a live standalone server against this machine's ceilings.

Starts ``python -m zndraw_widget serve`` on 127.0.0.1 with a temporary storage directory,
measures reads and writes through a keep-alive HTTP client, and prints each figure beside
the ceiling measured in the same run (raw loopback TCP, a minimal Tornado server). See
``benchmarks/README.md``.

    python benchmarks/bench_data_channel.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from zndraw_widget import codec
from zndraw_widget.frames import Column, FrameBatch

API = "/zndraw/api"

MINIMAL_TORNADO = r"""
import asyncio, sys
from tornado import httpserver, netutil, web

BIG = bytes(bytearray(b"\x5a") * int(sys.argv[1]))  # written memory, as a real body

class Big(web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "application/msgpack")
        self.finish(BIG)

    def compute_etag(self):
        return None

class Tiny(web.RequestHandler):
    def get(self):
        self.finish(b"ok")

async def main():
    server = httpserver.HTTPServer(web.Application([("/big", Big), ("/tiny", Tiny)]))
    sockets = netutil.bind_sockets(0, address="127.0.0.1")
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

TCP_SENDER = r"""
import socket, sys
port, block, total = map(int, sys.argv[1:])
with socket.create_connection(("127.0.0.1", port)) as conn:
    data = bytes(block)
    for _ in range(total // block):
        conn.sendall(data)
"""


# -- plumbing --------------------------------------------------------------------------------
class Client:
    """One persistent HTTP/1.1 connection to 127.0.0.1.

    Response bodies are read into one reused buffer, so that the client's own memory
    allocation does not weigh on the figures: a returned body is valid until the next request.
    """

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.headers = {"Authorization": f"token {token}"} if token else {}
        # Sized for the largest response and written once, so that its pages are mapped:
        # the first large read then measures the server, not this process's page faults.
        self.buffer = bytearray(b"\x01" * (48 << 20))

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/msgpack") -> memoryview:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        size = response.length or 0
        if size > len(self.buffer):
            self.buffer = bytearray(size)
        view = memoryview(self.buffer)[:size]
        received = 0
        while received < size:
            received += response.readinto(view[received:])
        response.read()  # the end of the response (nothing left when Content-Length was sent)
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {bytes(view[:300])!r}")
        return view

    def json(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        return json.loads(bytes(self.request(method, path, body, "application/json")))

    def close(self) -> None:
        self.conn.close()


def start_process(args: list[str], pattern: str) -> tuple[subprocess.Popen, re.Match]:
    """Start ``args``; wait for a stdout line matching ``pattern``."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        match = re.search(pattern, line)
        if match:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, match
    raise RuntimeError(f"{args[:4]} exited (code {process.wait()}) before it was ready")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def frames_body(positions: np.ndarray, numbers: np.ndarray) -> bytes:
    """A columnar msgpack batch of B frames: positions (B, N, 3), numbers (B, N)."""
    batch = FrameBatch({"positions": Column(values=positions),
                        "numbers": Column(values=numbers)}, len(positions))
    return codec.encode(batch.to_wire())


class Room:
    """A room on the server, keeping its order version for the next insert."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name
        self.length = 0
        self.order_version = client.json("POST", f"{API}/rooms", {"name": name, "base": None})[
            "order_version"]

    def insert(self, body: bytes, at: int | None = None) -> None:
        where = "" if at is None else f"&at={at}"
        path = f"{API}/rooms/{self.name}/frames?base_version={self.order_version}{where}"
        answer = json.loads(bytes(self.client.request("POST", path, body)))
        self.order_version = answer["order_version"]
        self.length += answer["count"]

    def extend(self, count: int, natoms: int, batch: int, rng: np.random.Generator) -> None:
        numbers = np.ones((batch, natoms), dtype=np.int64)
        for start in range(0, count, batch):
            size = min(batch, count - start)
            self.insert(frames_body(rng.random((size, natoms, 3)), numbers[:size]))

    def read(self, query: str) -> memoryview:
        return self.client.request("GET", f"{API}/rooms/{self.name}/frames?{query}")


# -- ceilings --------------------------------------------------------------------------------
def loopback_tcp(total: int) -> float:
    """Bytes/s of one TCP stream over 127.0.0.1, from another process into a buffer."""
    block = 32 << 20
    total = total // block * block
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = subprocess.Popen([sys.executable, "-c", TCP_SENDER,
                                   str(listener.getsockname()[1]), str(block), str(total)])
        conn, _ = listener.accept()
    buffer = memoryview(bytearray(4 << 20))
    with conn:
        received = 0
        start = time.perf_counter()
        while received < total:
            received += conn.recv_into(buffer)
        elapsed = time.perf_counter() - start
    sender.wait()
    return received / elapsed


# -- the run ---------------------------------------------------------------------------------
@dataclass
class Row:
    figure: str
    value: float
    unit: str
    ceiling: float | None = None
    ratio: float | None = None
    goal: str = ""
    ok: bool | None = None


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def print_table(rows: list[Row]) -> None:
    table = [("figure", "value", "unit", "ceiling", "ratio", "goal", "result")]
    for row in rows:
        result = "" if row.ok is None else ("PASS" if row.ok else "FAIL")
        table.append((row.figure, fmt(row.value), row.unit, fmt(row.ceiling), fmt(row.ratio),
                      row.goal, result))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for n, line in enumerate(table):
        cells = [c.ljust(w) if i in (0, 2, 5) else c.rjust(w)
                 for i, (c, w) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    args = parser.parse_args()
    quick = args.quick
    rng = np.random.default_rng(0)
    rows: list[Row] = []
    step = lambda text: print(f"... {text}", file=sys.stderr, flush=True)  # noqa: E731

    token = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="zndraw-bench-") as storage:
        server, match = start_process(
            [sys.executable, "-m", "zndraw_widget", "serve", "--port", "0",
             "--storage", storage, "--token", token],
            r"serving on http://127\.0\.0\.1:(\d+)/")
        tornado = None
        try:
            client = Client(int(match.group(1)), token)

            # Data first (its response size sizes the Tornado ceiling).
            step("1M-atom frame")
            big_atoms = 1_000_000
            big = Room(client, "one-million")
            cold_times = []
            for i in range(3):  # write a frame, read it once: the median of three such reads
                big.insert(frames_body(rng.random((1, big_atoms, 3)),
                                       np.ones((1, big_atoms), dtype=np.int64)))
                cold_times.append(timed(lambda i=i: big.read(f"index={i}")))
            big_cold = statistics.median(cold_times)
            big_size = len(big.read("index=0"))

            step("ceilings")
            tcp = loopback_tcp((1 if quick else 4) << 30)
            tornado, tmatch = start_process(
                [sys.executable, "-c", MINIMAL_TORNADO, str(big_size)], r"^(\d+)$")
            plain = Client(int(tmatch.group(1)))
            # Figures and their ceilings are measured in turn, so that load from elsewhere
            # on the machine weighs on both alike.
            big_times, ceiling_times = [], []
            for _ in range(5 if quick else 15):
                ceiling_times.append(timed(lambda: plain.request("GET", "/big")))
                big_times.append(timed(lambda: big.read("index=0")))
            ceiling_big = big_size / statistics.median(ceiling_times)
            big_warm = statistics.median(big_times)
            rows.append(Row("loopback TCP, one stream (ceiling)", tcp / 1e9, "GB/s"))
            rows.append(Row(f"Tornado, prebuilt {big_size / 1e6:.0f} MB body (ceiling)",
                            ceiling_big / 1e9, "GB/s", tcp / 1e9, ceiling_big / tcp))

            step("1k-atom frames")
            small = Room(client, "one-thousand")
            small.extend(1000, 1000, 100, rng)
            for _ in range(50):
                plain.request("GET", "/tiny")
            indices = rng.choice(1000, 200, replace=False)
            floor_times, first, again = [], [], []
            for repeat in (first, again):
                for i in indices:
                    floor_times.append(timed(lambda: plain.request("GET", "/tiny")))
                    repeat.append(timed(lambda i=i: small.read(f"index={i}")))
            floor = statistics.median(floor_times)
            rows.append(Row("Tornado, tiny GET (per-request floor)", floor * 1e3, "ms"))
            for label, times in (("first read of each", first), ("repeated", again)):
                value = statistics.median(times)
                rows.append(Row(f"1k-atom frame read, {label} (median)", value * 1e3, "ms",
                                floor * 1e3, value / floor, "<= 1 ms", value <= 1e-3))

            for label, seconds in (("first read after write", big_cold),
                                   ("repeated", big_warm)):
                rate = big_size / seconds
                rows.append(Row(f"1M-atom frame read, {label}", rate / 1e9, "GB/s",
                                ceiling_big / 1e9, rate / ceiling_big, ">= 0.7 x ceiling",
                                rate >= 0.7 * ceiling_big))

            step("extend")
            count, natoms, batch = (2000, 100, 1000) if quick else (10_000, 100, 1000)
            extended = Room(client, "extend")
            seconds = timed(lambda: extended.extend(count, natoms, batch, rng))
            per_frame = natoms * 32 + 150  # positions + numbers + framing, bytes
            rate = count / seconds
            rows.append(Row(f"extend {count:,} x {natoms} atoms, {batch} per request",
                            rate, "frames/s", ceiling_big / per_frame,
                            rate / (ceiling_big / per_frame), ">= 20,000/s", rate >= 20_000))

            step("positions of every frame")
            start = time.perf_counter()
            body_size = len(extended.read("data=positions"))  # the first read after the write
            cold = time.perf_counter() - start
            warm = statistics.median(timed(lambda: extended.read("data=positions"))
                                     for _ in range(3 if quick else 7))
            at_ceiling = body_size / ceiling_big
            for label, seconds in (("first read after write", cold), ("repeated", warm)):
                rows.append(Row(f"positions of {count:,} x {natoms}, one request, {label}",
                                seconds * 1e3, "ms", at_ceiling * 1e3, seconds / at_ceiling,
                                "<= 100 ms", seconds <= 0.1))

            step("insert at index 0")
            long = Room(client, "long")
            target = 20_000 if quick else 100_000
            inserts = 20 if quick else 50
            for length in sorted({10_000, target}):
                long.extend(length - long.length, 10, 5000, rng)
                times = []
                for _ in range(inserts):
                    body = frames_body(rng.random((1, 10, 3)), np.ones((1, 10), dtype=np.int64))
                    times.append(timed(lambda body=body: long.insert(body, at=0)))
                value = statistics.median(times)
                rows.append(Row(f"insert 1 frame at index 0 of {length:,} (median)",
                                value * 1e3, "ms", floor * 1e3, value / floor, "<= 5 ms",
                                value <= 5e-3))
            plain.close()
            client.close()
        finally:
            if tornado is not None:
                stop_process(tornado)
            stop_process(server)
    print()
    print_table(rows)
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
