"""The Redis store of this tree against the one of another git revision, side by side:
bytes per frame and the time of operations at one room size, the two measured in turn so
that load from other processes weighs on both alike, with the ratio (this / other).

Each store gets its own redis-server; room ``r`` is filled through the Store API with
frames as the server makes them, in inserts of 50,000. The other revision's package is
taken with ``git archive`` into a temporary directory and imported under another name.
See ``benchmarks/README.md``.

    python benchmarks/bench_redis_layout.py [--against main] [--frames 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import secrets
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from bench_state_memory import fill  # noqa: E402  (how both fill room r)
from conftest import start_redis  # noqa: E402  (the tests' helpers)

REPEAT = 15  # runs of each operation per store (resolve all: 5)


def other_package(revision: str, directory: Path) -> Any:
    """The ``zndraw_widget`` package at ``revision``, imported as ``zndraw_widget_other``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src/zndraw_widget"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    shutil.move(directory / "src" / "zndraw_widget", directory / "zndraw_widget_other")
    sys.path.insert(0, str(directory))
    return importlib.import_module("zndraw_widget_other")


class Side:
    """One store (of one package) on its own redis-server."""

    def __init__(self, package: str, directory: Path) -> None:
        self.base = importlib.import_module(f"{package}.state.base")
        store = importlib.import_module(f"{package}.state.redis.store")
        directory.mkdir()
        self.process, url = start_redis(directory)
        self.client = redis.Redis.from_url(url)
        self.store = store.RedisStore(url + "?socket_timeout=300")  # big scripts, busy machine
        self.version = 1

    def frame(self, segment: str, row: int) -> Any:
        return self.base.FrameRef(secrets.token_hex(8), 1, "sha256:" + secrets.token_hex(32),
                                  f"{segment}/{row}")

    def used_memory(self) -> int:
        """Redis's ``used_memory`` but for its clients' buffers (big requests' ARGV)."""
        info = self.client.info("memory")
        return info["used_memory"] - info["mem_clients_normal"]

    async def fill(self, frames: int) -> tuple[float, float]:
        """Room ``r`` of ``frames`` frames: (bytes per frame, seconds)."""
        before = self.used_memory()
        start = time.perf_counter()
        await fill(self.store, frames, self.base.FrameRef)
        seconds = time.perf_counter() - start
        self.middle_id = (await self.store.resolve("r", [frames // 2])).refs[0].id
        return (self.used_memory() - before) / frames, seconds

    async def insert_delete(self, index: int, count: int) -> None:
        """Insert ``count`` frames at ``index`` and delete them again."""
        segment = secrets.token_hex(8)
        new = [self.frame(segment, k) for k in range(count)]
        await self.store.insert("r", [(index + k, f) for k, f in enumerate(new)], session="s",
                                order_base=None)
        await self.store.delete("r", [f.id for f in new], session="s", order_base=None)

    async def update(self) -> None:
        new = self.frame(secrets.token_hex(8), 0)
        await self.store.update("r", [(self.middle_id, self.version, new.hash, new.location)],
                                session="s")
        self.version += 1

    async def close(self) -> None:
        await self.store.close()
        self.client.close()
        self.process.terminate()
        self.process.wait()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--frames", type=int, default=200_000)
    options = parser.parse_args()
    frames, middle = options.frames, options.frames // 2
    with tempfile.TemporaryDirectory(prefix="zndraw-layout-") as directory:
        other_package(options.against, Path(directory) / "package")
        sides = {"this": Side("zndraw_widget", Path(directory) / "this"),
                 options.against: Side("zndraw_widget_other", Path(directory) / "other")}
        try:
            print(f"... filling {frames:,} frames in each", file=sys.stderr, flush=True)
            filled = {name: await side.fill(frames) for name, side in sides.items()}
            this, other = (filled[name] for name in sides)
            print(f"room of {frames:,} frames: this / {options.against} (ratio)")
            print(f"  {'bytes per frame (used_memory)':<34} {this[0]:>9.0f} {other[0]:>9.0f}"
                  f"  {this[0] / other[0]:5.2f}")
            print(f"  {'fill, inserts of 50,000 (s)':<34} {this[1]:>9.2f} {other[1]:>9.2f}"
                  f"  {this[1] / other[1]:5.2f}")
            operations = {
                "insert at 0 + delete": lambda s: s.insert_delete(0, 1),
                "insert in the middle + delete": lambda s: s.insert_delete(middle, 1),
                "extend by 1,000 + delete": lambda s: s.insert_delete(frames, 1000),
                "update of one frame": lambda s: s.update(),
                "resolve [middle]": lambda s: s.store.resolve("r", [middle]),
                "resolve 1,000 (a slice)": lambda s: s.store.resolve(
                    "r", s.base.SliceSpec(middle, middle + 1000, None)),
                "resolve all": lambda s: s.store.resolve(
                    "r", s.base.SliceSpec(None, None, None)),
            }
            print(f"  median ms of {REPEAT} runs each, taking turns:")
            for name, operation in operations.items():
                times: dict[str, list[float]] = {side: [] for side in sides}
                for _ in range(5 if name == "resolve all" else REPEAT):
                    for side_name, side in sides.items():
                        start = time.perf_counter()
                        await operation(side)
                        times[side_name].append((time.perf_counter() - start) * 1000)
                a, b = (statistics.median(times[side]) for side in sides)
                print(f"  {name:<34} {a:>9.2f} {b:>9.2f}  {a / b:5.2f}", flush=True)
        finally:
            for side in sides.values():
                await side.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
