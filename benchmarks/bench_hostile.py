"""Peak memory a standalone server spends on hostile request bodies.

Starts ``python -m zndraw_widget serve`` (the tests' ``ServerProcess``) on 127.0.0.1, sends
each body once, and reads the server's peak resident memory from ``/proc/<pid>/status``
(``VmHWM``, reset before each request through ``/proc/<pid>/clear_refs``). Prints, for each
body, its size, the answer, the time to the answer, the peak growth over the resident memory
before the request and the ratio growth / body size. See ``benchmarks/README.md``.

    python benchmarks/bench_hostile.py
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import re
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import ServerProcess  # noqa: E402  (the tests' helper)

from zndraw_widget import codec  # noqa: E402
from zndraw_widget.frames import FrameBatch  # noqa: E402

MB = 1 << 20
GOAL_RATIO = 4.0
GOAL_BLOCK = 0.05  # seconds one request may hold the event loop
LOOP_WATCH = Path(__file__).with_name("loop_watch.py")


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


def many_frames(count: int, natoms: int) -> bytes:
    """A well-formed batch of ``count`` frames of ``natoms`` atoms."""
    rng = np.random.default_rng(1)
    frames = [{"positions": rng.random((natoms, 3)), "numbers": np.ones(natoms, dtype=np.int64)}
              for _ in range(count)]
    return codec.encode(FrameBatch.from_frames(frames).to_wire())


def select(index: list[int]) -> bytes:
    return json.dumps({"index": index}).encode()


@dataclass
class Case:
    """One request: ``make()`` its body; ``setup`` a body appended to room ``r`` first; sent
    without the token unless ``authenticated``; ``hostile`` ones count for the goal."""

    name: str
    method: str
    path: str
    make: Callable[[], bytes]
    authenticated: bool = True
    setup: bytes | None = None
    hostile: bool = True
    as_client: bool = False  # with the headers the Room client sends (key, body sha256)


def send_raw(base: str, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    """Send a request without credentials on a plain socket, its body as long as the server
    reads it; the status and body it answered (0: it closed without answering)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=600) as sock:
        sock.sendall(f"{method} {url.path}{path} HTTP/1.1\r\nHost: x\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            view = memoryview(body)
            for start in range(0, len(body), MB):
                sock.sendall(view[start:start + MB])
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while data := sock.recv(1 << 16):  # until closed, or the whole answer is in
                answer += data
                head, _, rest = answer.partition(b"\r\n\r\n")
                length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                if length and len(rest) >= int(length.group(1)):
                    break
    head, _, rest = answer.partition(b"\r\n\r\n")
    return (int(head.split(b" ")[1]) if head else 0), rest


def loop_blocks(lines: list[str]) -> float:
    """The longest loop block ``loop_watch.py`` reported in ``lines`` (seconds)."""
    return max((float(line.split()[-1]) for line in lines if line.startswith("loop blocked")),
               default=0.0)


def client_headers(case: Case, body: bytes) -> dict[str, str]:
    """What the ``Room`` client sends with a write: an ``Idempotency-Key`` and the body's
    ``X-Content-SHA256`` (the server hashes the body and digests the request for them)."""
    if not case.as_client:
        return {}
    return {"Idempotency-Key": "bench-1", "X-Content-SHA256": hashlib.sha256(body).hexdigest()}


def measure(case: Case, body: bytes) -> tuple[int, bytes, float, int, float]:
    """Send ``body`` to a fresh server (so that memory freed by an earlier request cannot
    hide this one's growth): its answer's status and body, seconds, peak RSS growth and the
    longest event-loop block."""
    with tempfile.TemporaryDirectory() as storage:
        server = ServerProcess(Path(storage), command=(str(LOOP_WATCH),))
        try:
            url = urlsplit(server.url)
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)

            def call(method: str, path: str, body: bytes, headers: dict[str, str] | None = None
                     ) -> tuple[int, bytes]:
                connection.request(method, url.path + path, body=body,
                                   headers={**server.headers, **(headers or {})})
                response = connection.getresponse()
                return response.status, response.read()

            status, _ = call("POST", "rooms", json.dumps({"name": "r", "base": None}).encode())
            assert status == 201, status
            if case.setup is not None:
                status, _ = call("POST", "rooms/r/frames?base_version=0", case.setup)
                assert status == 201, status
            time.sleep(0.2)  # the watcher reports what the set-up blocked, before we count
            seen = len(server._log)
            pid = server.process.pid
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
            before = _status_kb(pid, "VmRSS")
            start = time.perf_counter()
            if case.authenticated:
                status, answer = call(case.method, case.path, body, client_headers(case, body))
            else:
                status, answer = send_raw(server.url, case.method, case.path, body)
            seconds = time.perf_counter() - start
            growth = (_status_kb(pid, "VmHWM") - before) * 1024
            time.sleep(0.2)  # the watcher's last report
            blocked = loop_blocks(server._log[seen:])
        finally:
            server.stop()
    return status, answer, seconds, growth, blocked


def main() -> int:
    frame_1k = real_frame(32 * 1000)  # one frame of 1,000 atoms
    cases = [
        Case("20 MB msgpack of empty arrays", "POST", "rooms/r/frames?base_version=0",
             lambda: empty_arrays(20 * MB)),
        Case("20 MB msgpack of 2-char strings", "POST", "rooms/r/frames?base_version=0",
             lambda: short_strings(20 * MB)),
        Case("20 MB msgpack of arrays of 16 empty", "POST", "rooms/r/frames?base_version=0",
             lambda: nested_arrays(20 * MB)),
        Case("1,000,000 zero-atom frames", "POST", "rooms/r/frames?base_version=0",
             lambda: zero_atom_frames(1_000_000)),
        Case("100,000-deep JSON (select)", "POST", "rooms/r/select",
             lambda: deep_json(100_000)),
        Case("300 MB unauthenticated POST (select)", "POST", "rooms/r/select",
             lambda: bytes(300 * MB), authenticated=False),
        Case("300 MB unauthenticated POST (no path)", "POST", "no/such/path",
             lambda: bytes(300 * MB), authenticated=False),
        Case("select [0]*10000 of a 1k-atom frame", "POST", "rooms/r/select",
             lambda: select([0] * 10_000), setup=frame_1k),
        Case("20 MB well-formed frame (reference)", "POST", "rooms/r/frames?base_version=0",
             lambda: real_frame(20 * MB), hostile=False),
        Case("100 MB, 100 frames (reference)", "POST", "rooms/r/frames?base_version=0",
             lambda: many_frames(100, 32_000), hostile=False),
        Case("100 MB, 100 frames, as Room sends it", "POST", "rooms/r/frames?base_version=0",
             lambda: many_frames(100, 32_000), hostile=False, as_client=True),
        Case("read 64 MB: 20 frames (reference)", "POST", "rooms/r/select",
             lambda: select(list(range(20))), setup=many_frames(20, 100_000), hostile=False),
    ]
    print(f"{'body':38} {'size':>11} {'answer':>6} {'seconds':>8} "
          f"{'peak growth':>12} {'ratio':>6} {'loop block':>10}")
    worst, worst_block, upload = 0.0, 0.0, 0.0
    for case in cases:
        body = case.make()
        status, answer, seconds, growth, blocked = measure(case, body)
        ratio = growth / len(body)
        if case.hostile and len(body) >= MB:
            worst = max(worst, ratio)
        worst_block = max(worst_block, blocked)
        if case.as_client:
            upload = len(body) / seconds / MB
        block = f"{blocked * 1000:.0f} ms" if blocked else "< 10 ms"
        print(f"{case.name:38} {len(body):>11,} {status:>6} {seconds:>8.2f} "
              f"{growth / MB:>9.1f} MB {ratio:>6.1f} {block:>10}", flush=True)
        print(f"    {answer[:150].decode(errors='replace')}", file=sys.stderr)
    print(f"upload of 100 MB as the Room client sends it: {upload:.0f} MB/s")
    print(f"worst ratio of the hostile bodies of 1 MB and more: {worst:.1f} "
          f"(goal <= {GOAL_RATIO:g}); longest event-loop block: {worst_block * 1000:.0f} ms "
          f"(goal <= {GOAL_BLOCK * 1000:.0f} ms)")
    return 0 if worst <= GOAL_RATIO and worst_block <= GOAL_BLOCK else 1


if __name__ == "__main__":
    sys.exit(main())
