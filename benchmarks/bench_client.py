"""Benchmarks of the kernel-side ``Room`` against a standalone server in a subprocess.

    python benchmarks/bench_client.py [--frames 10000] [--atoms 100]

- ``room.extend`` of N ase.Atoms (frames/s), and as a fraction of a raw msgpack extend of
  the same frames (one ``FrameBatch`` encoded and POSTed in one request) in the same run;
- ``room[:]`` of the N frames in one call, first read and again from the frame cache, each
  beside its reference in the same run: a raw read (one GET, msgpack decoded) plus building
  N ``ase.Atoms`` from the decoded arrays, and that construction alone (goals: within 1.1x);
- ``room[:] = new`` (a slice assignment of N new frames) and ``del room[::2]`` of
  ``--delete-frames`` (100,000) small frames: the commits each took (goal: one) and the
  time as a multiple of an extend of the same frames (goal: within 2x);
- ``room[i]`` random reads of 1k-atom frames (p50, p90; goal: p50 <= 2 ms).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import numpy as np

from zndraw_widget import Room, codec
from zndraw_widget.frames import FrameBatch

TOKEN = "bench-token"


def make_atoms(count: int, natoms: int, seed: int = 0) -> list:
    import ase

    rng = np.random.default_rng(seed)
    numbers = rng.integers(1, 20, natoms)
    frames = []
    for i in range(count):
        atoms = ase.Atoms(numbers=numbers, positions=rng.random((natoms, 3)) * 10,
                          cell=np.eye(3) * 10, pbc=True)
        atoms.info["step"] = i
        frames.append(atoms)
    return frames


def start_server(storage: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "zndraw_widget", "serve", "--port", "0", "--storage", storage,
         "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        match = re.search(r"serving on (http://\S+) \(token", line)
        if match:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, match.group(1)
    raise RuntimeError("the server did not start")


def raw_extend(url: str, room: str, frames: list) -> float:
    """Seconds for the plainest upload: one batch, one msgpack body, one POST."""
    with httpx.Client(base_url=url + "zndraw/api/", timeout=600,
                      headers={"Authorization": f"token {TOKEN}"}) as client:
        client.post("rooms", json={"name": room, "base": None}).raise_for_status()
        start = time.perf_counter()
        body = codec.encode(FrameBatch.from_atoms(frames).to_wire())
        client.post(f"rooms/{room}/frames", params={"base_version": 0},
                    content=body).raise_for_status()
        return time.perf_counter() - start


def raw_read(client: httpx.Client, room: str) -> dict:
    """Every frame of ``room``, as one GET decoded: field -> column."""
    response = client.get(f"rooms/{room}/frames", params={"index": "::"})
    return codec.decode(response.content, bounded=False)["data"]


def build_atoms(data: dict, count: int) -> list:
    """``count`` ase.Atoms made from the decoded columns, as a user would."""
    import ase

    numbers, positions, cell, pbc, step = (
        data[name]["values"] for name in ("numbers", "positions", "cell", "pbc", "info.step"))
    return [ase.Atoms(numbers=numbers[i], positions=positions[i], cell=cell[i], pbc=pbc[i],
                      info={"step": int(step[i])}) for i in range(count)]


def read_back(url: str, room: str, count: int, last, repeat: int) -> None:
    """``room[:]`` (first read, and cached) beside its references: a raw read (one GET of
    every frame, msgpack decoded) and building ``count`` ``ase.Atoms`` from the decoded
    arrays; the best of ``repeat`` rounds each, measured in turn, in wall time and in this
    process's CPU time (steadier on a shared machine)."""
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in ("raw", "built", "first",
                                                                   "cached")}

    def timed(name: str, make, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        made = make(*args)
        times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        return made

    with httpx.Client(base_url=url + "zndraw/api/", timeout=600,
                      headers={"Authorization": f"token {TOKEN}"}) as client:
        for _ in range(repeat):
            data = timed("raw", raw_read, client, room)
            atoms = timed("built", build_atoms, data, count)
            assert atoms[-1] == last
            with Room(room, url=url, token=TOKEN) as reader:  # a new, empty frame cache
                back = timed("first", reader.__getitem__, slice(None))
                again = timed("cached", reader.__getitem__, slice(None))
            assert len(back) == len(again) == count and back[-1] == again[-1] == last
            del atoms, back, again  # freed here, not inside the next round's timings
    (raw, raw_cpu), (built, built_cpu), (first, first_cpu), (cached, cached_cpu) = (
        (min(w for w, _ in v), min(c for _, c in v)) for v in times.values())
    print(f"room[:] of {count} frames: {first:.3f} s ({count / first:,.0f} frames/s); "
          f"raw read {raw:.3f} s + building the ase.Atoms {built:.3f} s: "
          f"{first / (raw + built):.2f}x, client CPU {first_cpu / (raw_cpu + built_cpu):.2f}x "
          "(goal <= 1.1x)")
    print(f"room[:] of {count} frames again (frame cache): {cached:.3f} s; building the "
          f"ase.Atoms {built:.3f} s: {cached / built:.2f}x, client CPU "
          f"{cached_cpu / built_cpu:.2f}x (goal <= 1.1x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--atoms", type=int, default=100)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delete-frames", type=int, default=100_000)
    args = parser.parse_args()
    frames = make_atoms(args.frames, args.atoms)
    with tempfile.TemporaryDirectory() as storage:
        process, url = start_server(storage)
        try:
            raw, ours = [], []
            for k in range(args.repeat):  # alternate, so both see the same server state
                raw.append(raw_extend(url, f"raw{k}", frames))
                with Room(f"room{k}", url=url, token=TOKEN, create=True) as room:
                    start = time.perf_counter()
                    room.extend(frames, progress=False)
                    ours.append(time.perf_counter() - start)
            best_raw, best = min(raw), min(ours)
            print(f"extend {args.frames} x {args.atoms} atoms: room.extend "
                  f"{args.frames / best:,.0f} frames/s ({best:.2f} s), raw msgpack "
                  f"{args.frames / best_raw:,.0f} frames/s ({best_raw:.2f} s): "
                  f"{best_raw / best:.2f}x raw")

            read_back(url, "room0", args.frames, frames[-1], args.repeat)

            with Room("room0", url=url, token=TOKEN) as room:
                replaced = make_atoms(args.frames, args.atoms, seed=2)
                seq = room.info()["seq"]
                start = time.perf_counter()
                room[:] = replaced
                elapsed = time.perf_counter() - start
                assert len(room) == args.frames and room[-1] == replaced[-1]
                print(f"room[:] = {args.frames} new frames: {elapsed:.2f} s, "
                      f"{room.info()['seq'] - seq} commit(s), {elapsed / best:.2f}x the extend")

            small = make_atoms(args.delete_frames, 4, seed=3)
            with Room("halved", url=url, token=TOKEN, create=True) as room:
                start = time.perf_counter()
                room.extend(small, progress=False)
                extended = time.perf_counter() - start
                seq = room.info()["seq"]
                start = time.perf_counter()
                del room[::2]
                elapsed = time.perf_counter() - start
                assert len(room) == args.delete_frames // 2
                print(f"del room[::2] of {args.delete_frames} frames: {elapsed:.2f} s, "
                      f"{room.info()['seq'] - seq} commit(s), {elapsed / extended:.2f}x the "
                      f"extend of the same frames ({extended:.2f} s)")

            with Room("big", url=url, token=TOKEN, create=True) as room:
                room.extend(make_atoms(200, 1000, seed=1), progress=False)
                rng = np.random.default_rng(0)
                for i in rng.integers(0, 200, 50):  # warm up connection and caches
                    room[int(i)]
                times = []
                for i in rng.integers(0, 200, args.reads):
                    start = time.perf_counter()
                    room[int(i)]
                    times.append(time.perf_counter() - start)
                p50, p90 = np.percentile(times, [50, 90]) * 1e3
                print(f"room[i] of 1k-atom frames, {args.reads} random reads: p50 {p50:.2f} ms, "
                      f"p90 {p90:.2f} ms")
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
