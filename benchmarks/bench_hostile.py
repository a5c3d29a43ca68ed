"""Peak memory a standalone server spends on hostile request bodies.

Starts ``python -m zndraw_widget serve`` (the tests' ``ServerProcess``) on 127.0.0.1, sends
each body once, and reads the server's peak resident memory from ``/proc/<pid>/status``
(``VmHWM``, reset before each request through ``/proc/<pid>/clear_refs``). Prints, for each
body, its size, the answer, the time to the answer, the peak growth over the resident memory
before the request and the ratio growth / body size. See ``benchmarks/README.md``.

    python benchmarks/bench_hostile.py
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import ServerProcess  # noqa: E402  (the tests' helper)

from zndraw_widget import codec  # noqa: E402
from zndraw_widget.frames import FrameBatch  # noqa: E402

MB = 1 << 20
GOAL_RATIO = 4.0


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def empty_arrays(size: int) -> bytes:
    """A msgpack array of ``size - 5`` empty arrays: one byte each."""
    count = size - 5
    return b"\xdd" + count.to_bytes(4, "big") + b"\x90" * count


def short_strings(size: int) -> bytes:
    """A msgpack array of two-character strings: three bytes each."""
    count = (size - 5) // 3
    return b"\xdd" + count.to_bytes(4, "big") + b"\xa2ab" * count


def nested_arrays(size: int) -> bytes:
    """A msgpack array of arrays of 16 empty arrays each: the decoder gets going before
    the budget runs out."""
    count = (size - 5) // 20
    return b"\xdd" + count.to_bytes(4, "big") + (b"\xdc\x00\x10" + b"\x90" * 16) * count


def zero_atom_frames(count: int) -> bytes:
    """A batch declaring ``count`` frames of zero atoms (no data bytes at all)."""
    return codec.encode({"data": {
        "positions": {"values": np.zeros((count, 0, 3))},
        "numbers": {"values": np.zeros((count, 0), dtype=np.int64)},
    }})


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def real_frame(size: int) -> bytes:
    """A well-formed batch of one frame of about ``size`` bytes (for comparison)."""
    natoms = size // 32
    rng = np.random.default_rng(0)
    frame = {"positions": rng.random((natoms, 3)), "numbers": np.ones(natoms, dtype=np.int64)}
    return codec.encode(FrameBatch.from_frames([frame]).to_wire())


def measure(method: str, path: str, body: bytes) -> tuple[int, bytes, float, int]:
    """Send ``body`` to a fresh server (so that memory freed by an earlier request cannot
    hide this one's growth): its answer's status and body, seconds, and peak RSS growth."""
    with tempfile.TemporaryDirectory() as storage:
        server = ServerProcess(Path(storage))
        try:
            url = urlsplit(server.url)
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)

            def call(method: str, path: str, body: bytes) -> tuple[int, bytes]:
                connection.request(method, url.path + path, body=body, headers=server.headers)
                response = connection.getresponse()
                return response.status, response.read()

            status, _ = call("POST", "rooms", json.dumps({"name": "r", "base": None}).encode())
            assert status == 201, status
            pid = server.process.pid
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
            before = _status_kb(pid, "VmRSS")
            start = time.perf_counter()
            status, answer = call(method, path, body)
            seconds = time.perf_counter() - start
            growth = (_status_kb(pid, "VmHWM") - before) * 1024
        finally:
            server.stop()
    return status, answer, seconds, growth


def main() -> int:
    cases: list[tuple[str, str, str, Callable[[], bytes]]] = [
        ("20 MB msgpack of empty arrays", "POST", "rooms/r/frames?base_version=0",
         lambda: empty_arrays(20 * MB)),
        ("20 MB msgpack of 2-char strings", "POST", "rooms/r/frames?base_version=0",
         lambda: short_strings(20 * MB)),
        ("20 MB msgpack of arrays of 16 empty", "POST", "rooms/r/frames?base_version=0",
         lambda: nested_arrays(20 * MB)),
        ("1,000,000 zero-atom frames", "POST", "rooms/r/frames?base_version=0",
         lambda: zero_atom_frames(1_000_000)),
        ("100,000-deep JSON (select)", "POST", "rooms/r/select",
         lambda: deep_json(100_000)),
        ("20 MB well-formed frame (reference)", "POST", "rooms/r/frames?base_version=0",
         lambda: real_frame(20 * MB)),
    ]
    print(f"{'body':38} {'size':>10} {'answer':>6} {'seconds':>8} "
          f"{'peak growth':>12} {'ratio':>8}")
    worst = 0.0
    for name, method, path, make in cases:
        body = make()
        status, answer, seconds, growth = measure(method, path, body)
        ratio = growth / len(body)
        if "reference" not in name and len(body) >= MB:
            worst = max(worst, ratio)
        print(f"{name:38} {len(body):>10,} {status:>6} {seconds:>8.2f} "
              f"{growth / MB:>9.1f} MB {ratio:>8.1f}", flush=True)
        print(f"    {answer[:150].decode(errors='replace')}", file=sys.stderr)
    print(f"worst ratio of the hostile bodies of 1 MB and more: {worst:.1f} "
          f"(goal <= {GOAL_RATIO:g})")
    return 0 if worst <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
