"""Benchmark of ``GET rooms/<room>/export`` (``room.export``) against a standalone server in a
subprocess.

    python benchmarks/bench_export.py [--atoms 100] [--frames 2000,20000]

For rooms of each number of frames (100-atom frames with energies, forces and info):

- extxyz export (streamed) via ``room.export``: seconds, and as a multiple of
  ``ase.io.write`` of the same frames to a file in the same run (the floor: the server
  converts and writes with ase too);
- the server's memory during the export: the growth of its resident set over what it
  held before (sampled every 10 ms), which should not grow with the room (goal: the largest
  room's growth within 2x the smallest's);
- traj export (written whole to a temporary file, then sent): seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import ase.io
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
from bench_client import TOKEN, make_atoms, start_server

from zndraw_widget import Room


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """The largest resident set of process ``pid`` while the ``with`` block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def __enter__(self) -> PeakRss:
        self.before = rss_kb(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.peak = max(self.peak, rss_kb(self.pid))

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return max(self.peak - self.before, 0) / 1024


def with_results(frames: list) -> list:
    rng = np.random.default_rng(1)
    for atoms in frames:
        atoms.calc = SinglePointCalculator(atoms, energy=float(rng.random()),
                                           forces=rng.standard_normal((len(atoms), 3)))
    return frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=100)
    parser.add_argument("--frames", default="2000,20000")
    args = parser.parse_args()
    counts = [int(c) for c in args.frames.split(",")]
    rows, growths = [], []
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_server(str(Path(folder) / "storage"))
        try:
            for count in counts:
                frames = with_results(make_atoms(count, args.atoms))
                room = Room(f"export-{count}", url=url, token=TOKEN, create=True)
                room.extend(frames, progress=False)
                start = time.perf_counter()
                ase.io.write(Path(folder) / "ase.xyz", frames)
                ase_alone = time.perf_counter() - start
                with PeakRss(process.pid) as memory:
                    start = time.perf_counter()
                    room.export(Path(folder) / "room.xyz", progress=False)
                    exported = time.perf_counter() - start
                size_mb = (Path(folder) / "room.xyz").stat().st_size / 1e6
                start = time.perf_counter()
                room.export(Path(folder) / "room.traj", progress=False)
                traj = time.perf_counter() - start
                growths.append(memory.growth_mb)
                rows.append((count, size_mb, exported, ase_alone, memory.growth_mb, traj))
                room.close()
                print(f"{count} frames done", file=sys.stderr)
        finally:
            process.terminate()
            process.wait(10)
    print(f"| frames x {args.atoms} atoms | extxyz MB | export s | ase.io.write s | ratio "
          "| server RSS growth MB | traj export s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for count, size_mb, exported, ase_alone, growth, traj in rows:
        print(f"| {count} | {size_mb:.1f} | {exported:.2f} | {ase_alone:.2f} | "
              f"{exported / ase_alone:.2f} | {growth:.1f} | {traj:.2f} |")
    constant = growths[-1] <= 2 * max(growths[0], 8.0)
    print(f"memory growth largest/smallest room: {growths[-1]:.1f} / {growths[0]:.1f} MB "
          f"({'ok' if constant else 'MISSED'}: goal within 2x, at least 8 MB of slack)")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
