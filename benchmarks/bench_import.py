"""Importing a large extxyz file (energies and forces) through ``POST rooms/<room>/files``,
beside ``ase.io.read`` of the same file in the same run. See ``benchmarks/README.md``.

    python benchmarks/bench_import.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import ase
import ase.io
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import ServerProcess  # noqa: E402  (the tests' helpers)

NATOMS = 200
BLOCK_FRAMES = 500  # frames written by ase once, then repeated up to the size


def write_file(path: Path, size: int) -> int:
    """An extxyz of about ``size`` bytes (a block of frames with energies and forces,
    repeated); its frame count."""
    rng = np.random.default_rng(0)
    images = []
    for step in range(BLOCK_FRAMES):
        atoms = ase.Atoms(numbers=rng.integers(1, 30, NATOMS),
                          positions=rng.random((NATOMS, 3)) * 12, cell=np.eye(3) * 12,
                          pbc=True)
        atoms.info["step"] = step
        atoms.calc = SinglePointCalculator(atoms, energy=float(rng.normal()),
                                           forces=rng.normal(size=(NATOMS, 3)))
        images.append(atoms)
    block = path.with_suffix(".block")
    ase.io.write(block, images, format="extxyz")
    data = block.read_bytes()
    block.unlink()
    times = max(1, round(size / len(data)))
    with path.open("wb") as file:
        for _ in range(times):
            file.write(data)
    return times * BLOCK_FRAMES


def call(server: ServerProcess, method: str, path: str, body=None, headers=None,
         raw: bool = False):
    request = urllib.request.Request(server.url + path, data=body, method=method,
                                     headers={**server.headers, **(headers or {})})
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read() if raw else json.loads(response.read())


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of process ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def descendants(pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found += children
        frontier += children
    return found


def timed_import(server: ServerProcess, room: str, path: Path) -> dict[str, float]:
    """Upload ``path`` into new room ``room``: seconds to the 202, to frame 0 readable and
    to the job's end (each from the start of the upload), and the frames imported."""
    call(server, "POST", "rooms", json.dumps({"name": room, "base": None}).encode())
    answer: dict = {}

    def upload() -> None:  # streamed in 1 MB blocks (urllib's are 8 KB)
        url = urllib.parse.urlsplit(server.url)
        connection = http.client.HTTPConnection(url.hostname, url.port, blocksize=1 << 20,
                                                timeout=600)
        with path.open("rb") as body:
            connection.request("POST", f"{url.path}rooms/{room}/files?name=big.extxyz", body,
                               {**server.headers, "Content-Length": str(path.stat().st_size)})
            answer.update(json.loads(connection.getresponse().read()))
        answer["at"] = time.perf_counter()
        connection.close()

    start = time.perf_counter()
    uploading = threading.Thread(target=upload)
    uploading.start()
    while True:  # polled: a benchmark may; the first frame as a reader sees it
        try:
            call(server, "GET", f"rooms/{room}/frames?index=0&data=numbers", raw=True)
            break
        except urllib.error.HTTPError:
            time.sleep(0.005)
    first = time.perf_counter()
    uploading.join()
    job = answer["job"]
    while job["state"] not in ("done", "failed", "cancelled"):
        job = call(server, "GET", f"jobs/{job['id']}?wait=60")
    assert job["state"] == "done", job
    return {"upload s": answer["at"] - start, "first frame s": first - start,
            "total s": time.perf_counter() - start, "frames": job["frames_done"]}


def import_file(path: Path, small: Path, processes: int) -> dict[str, float]:
    """Upload ``small``, then ``path`` into a fresh server with a pool of ``processes``: the
    first frame of the first upload (the pool starts with it), the figures of
    :func:`timed_import` for ``path``, and the peak memory of the server and of its parse
    processes."""
    with tempfile.TemporaryDirectory() as storage:
        server = ServerProcess(Path(storage), "--max-upload-mb", "100000",
                               "--import-processes", str(processes))
        try:
            cold = timed_import(server, "cold", small)["first frame s"]
            row = timed_import(server, "r", path)
            parse_rss = [peak_rss_mb(pid) for pid in descendants(server.process.pid)]
            return {**row, "cold first frame s": cold,
                    "server peak MB": peak_rss_mb(server.process.pid),
                    "parse process peak MB": max(parse_rss, default=float("nan"))}
        finally:
            server.stop()


def ase_alone(path: Path) -> float:
    start = time.perf_counter()
    frames = ase.io.read(path, ":", format="extxyz")
    took = time.perf_counter() - start
    del frames
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 MB (and 50 MB), not 1 GB")
    args = parser.parse_args()
    size = (100 if args.quick else 1000) << 20
    with tempfile.TemporaryDirectory() as directory:
        big, half = Path(directory) / "big.extxyz", Path(directory) / "half.extxyz"
        small = Path(directory) / "small.extxyz"
        print(f"writing {size >> 20} MB and {size >> 21} MB of extxyz ...", file=sys.stderr)
        frames = write_file(big, size)
        write_file(half, size // 2)
        write_file(small, 1)  # one block, ~10 MB
        print("ase.io.read ...", file=sys.stderr)
        ase_s = ase_alone(big)
        rows = {}
        for processes in (1, 2):
            print(f"import, pool of {processes} ...", file=sys.stderr)
            rows[f"pool, {processes} process{'es' if processes > 1 else ''}"] = import_file(
                big, small, processes)
        print("import of half the size (memory) ...", file=sys.stderr)
        halved = import_file(half, small, 2)
    mb = big.stat().st_size / 1e6 if big.exists() else size / 1e6
    print(f"\nimport of {size >> 20} MB of extxyz ({frames} frames of {NATOMS} atoms, "
          f"energies and forces); ase.io.read alone: {ase_s:.1f} s")
    print(f"{'engine':<20} {'upload s':>9} {'1st frame s':>11} {'total s':>8} "
          f"{'/ ase':>6} {'server MB':>10} {'parser MB':>10}")
    misses = []
    for name, row in rows.items():
        ratio = row["total s"] / ase_s
        print(f"{name:<20} {row['upload s']:>9.2f} {row['first frame s']:>11.2f} "
              f"{row['total s']:>8.1f} {ratio:>6.2f} {row['server peak MB']:>10.0f} "
              f"{row['parse process peak MB']:>10.0f}")
        assert row["frames"] == frames
    one, default = rows["pool, 1 process"], rows["pool, 2 processes"]
    print(f"\nserver peak memory: {default['server peak MB']:.0f} MB importing {size >> 20} MB, "
          f"{halved['server peak MB']:.0f} MB importing {size >> 21} MB "
          f"(ratio {default['server peak MB'] / halved['server peak MB']:.2f}; goal: "
          "independent of the file size)")
    print(f"first frame readable {default['first frame s']:.2f} s after the upload began "
          f"(the import starts with the first bytes; goal: < 1 s); in a fresh server's first "
          f"upload, which starts the parse processes: {default['cold first frame s']:.2f} s")
    goals = [
        ("a pool of 1 process within 1.2x of ase alone", one["total s"] <= 1.2 * ase_s),
        ("the default pool (2 processes) faster than ase alone", default["total s"] < ase_s),
        ("server peak memory within 1.25x at half the size",
         default["server peak MB"] <= 1.25 * halved["server peak MB"]),
        ("first frame within 1 s of the upload's start", default["first frame s"] < 1.0),
    ]
    for goal, met in goals:
        print(f"{'met ' if met else 'MISSED'}  {goal}")
        if not met:
            misses.append(goal)
    print(f"(file {mb:.0f} MB; machine: {os.cpu_count()} cores)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
