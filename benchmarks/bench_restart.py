"""Restart time of a standalone server with the default (journal) store, by room size.

Fills a room of a live ``zndraw-widget serve`` with tiny frames (one atom each, written in
big batches), kills the server (SIGKILL) and times a fresh start on the same storage until
it answers for the room. See ``benchmarks/README.md``.

    python benchmarks/bench_restart.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from zndraw_widget import codec
from zndraw_widget.frames import Column, FrameBatch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import ServerProcess  # noqa: E402  (the tests' helpers)

BATCH = 50_000  # frames per request
RESTARTS = 3


def call(server: ServerProcess, method: str, path: str, body: bytes | None = None) -> dict:
    request = urllib.request.Request(server.url + path, data=body, method=method,
                                     headers=server.headers)
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def fill(server: ServerProcess, frames: int, rng: np.random.Generator) -> None:
    """Room ``r`` with ``frames`` distinct one-atom frames."""
    version = call(server, "POST", "rooms", json.dumps({"name": "r"}).encode())["order_version"]
    for start in range(0, frames, BATCH):
        size = min(BATCH, frames - start)
        batch = FrameBatch({"positions": Column(values=rng.random((size, 1, 3))),
                            "numbers": Column(values=np.ones((size, 1), dtype=np.int64))}, size)
        version = call(server, "POST", f"rooms/r/frames?base_version={version}",
                       codec.encode(batch.to_wire()))["order_version"]


def restart(storage: Path, frames: int) -> float:
    """Start a server on ``storage``; the seconds until it answered for the room (then it is
    killed, as the one before it was)."""
    start = time.perf_counter()
    server = ServerProcess(storage)
    try:
        assert call(server, "GET", "rooms/r")["length"] == frames
        return time.perf_counter() - start
    finally:
        server.kill()


def filled(storage: Path, frames: int) -> float:
    """Fill room ``r`` of a server on ``storage``, then kill it; the seconds the fill took."""
    server = ServerProcess(storage)
    try:
        start = time.perf_counter()
        fill(server, frames, np.random.default_rng(0))
        return time.perf_counter() - start
    finally:
        server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 frames")
    sizes = (10_000, 100_000) if parser.parse_args().quick else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory(prefix="zndraw-restart-") as directory:
        storages = {frames: Path(directory) / str(frames) for frames in sizes}
        fills, times = {}, {frames: [] for frames in sizes}
        for frames in sizes:
            print(f"... filling {frames:,} frames", file=sys.stderr, flush=True)
            fills[frames] = filled(storages[frames], frames)
        for round_ in range(RESTARTS):  # in turn, so that load from elsewhere weighs alike
            print(f"... restarts, round {round_ + 1}", file=sys.stderr, flush=True)
            for frames in sizes:
                times[frames].append(restart(storages[frames], frames))
        files = {frames: {name: (storages[frames] / "state" / name).stat().st_size / 1e6
                          for name in ("state.snapshot", "state.journal")
                          if (storages[frames] / "state" / name).exists()} for frames in sizes}
    print(f"{'frames':>10}  {'fill s':>7}  {'restart s':>9}  {'snapshot MB':>11}  {'journal MB':>10}")
    for frames in sizes:
        print(f"{frames:>10,}  {fills[frames]:>7.1f}  {statistics.median(times[frames]):>9.2f}  "
              f"{files[frames].get('state.snapshot', 0):>11.1f}  "
              f"{files[frames].get('state.journal', 0):>10.1f}")
    small, large = (statistics.median(times[frames]) for frames in sizes)
    ratio = large / small
    ok = ratio <= 2
    print(f"restart at {sizes[1]:,} / at {sizes[0]:,}: {ratio:.2f} (goal <= 2): "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
