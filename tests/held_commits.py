"""Catching a server process's commit in Redis, so that a test can kill the process at a
chosen moment of a write: before its commit ran, or after it ran but before the process
answered (tests/test_deploy.py)."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import redis

T = TypeVar("T")
NAME = "held-commits"  # the client name of this helper's own connections
HOLD_MS = 60_000  # the longest a hold lasts if a test fails before releasing it
KEYED = re.compile(r"(?:^| )([0-9a-f]{24}-\d+)(?: |$)")  # an upload's chunk key: <key>-<chunk>


def wait_for(found: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """The first value ``found()`` gives that is not None, asking every 10 ms."""
    deadline = time.monotonic() + timeout
    while (value := found()) is None:
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)  # paces the polls: the condition is what synchronises
    return value


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        os.kill(pid, signum)


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "tT"


class HeldCommits:
    """Holds the scripts every client runs in Redis (``CLIENT PAUSE WRITE``: a script waits,
    parsed, until :meth:`release`), steps server processes up to the moment a commit waits,
    and follows the keyed commits Redis runs (``MONITOR``)."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True, client_name=NAME)
        self._monitor = self._redis.monitor().__enter__()

    def close(self) -> None:
        self.release()
        self._monitor.__exit__()
        self._redis.close()

    def hold(self) -> None:
        self._redis.client_pause(HOLD_MS, all=False)

    def release(self) -> None:
        self._redis.client_unpause()

    def _settled(self) -> list[dict[str, str]]:
        """The other clients once Redis has read all they sent (two answers alike)."""
        def state() -> list[tuple[str, ...]]:
            return [(c["addr"], c["flags"], c["qbuf"], c["argv-mem"], c["cmd"])
                    for c in self._redis.client_list() if c["name"] != NAME]
        before = state()
        while (now := state()) != before:
            before = now
        return [dict(zip(("addr", "flags", "qbuf", "argv-mem", "cmd"), c, strict=True))
                for c in now]

    def step_to_commit(self, pids: list[int], min_argv: int) -> str:
        """With scripts held: let the processes ``pids`` run on, script by script, until
        one of them waits with a commit (a script of at least ``min_argv`` bytes of
        arguments); return that connection's address, every process of ``pids`` stopped
        (SIGSTOP), the commit not run."""
        while True:
            signal_all(pids, signal.SIGSTOP)
            wait_for(lambda: all(stopped(pid) for pid in pids) or None, "SIGSTOP")
            waiting = [c["addr"] for c in self._settled() if "b" in c["flags"]
                       and c["cmd"] == "evalsha" and int(c["argv-mem"]) >= min_argv]
            if waiting:
                return waiting[0]
            self.release()  # the held scripts run; their processes read the answers later
            self.hold()
            signal_all(pids, signal.SIGCONT)
            time.sleep(0.01)  # paces the steps: each process runs to its next held script

    def gone(self, address: str) -> None:
        """Return once Redis has dropped the connection from ``address``."""
        wait_for(lambda: all(c["addr"] != address for c in self._redis.client_list())
                 or None, f"Redis to drop {address}")

    def next_commit(self) -> tuple[str, str]:
        """(idempotency key, client address) of the next keyed script Redis runs."""
        while True:
            command = self._monitor.next_command()
            if (key := self._commit_key(command)) is not None:
                return key, f"{command['client_address']}:{command['client_port']}"

    def _commit_key(self, command: dict) -> str | None:
        found = KEYED.search(command["command"])
        if found is None or not command["command"].lower().startswith("evalsha "):
            return None
        return found.group(1)


def process_with_connection(pids: list[int], address: str, remote_port: int) -> int:
    """Which of ``pids`` holds the TCP connection from ``address`` (host:port, as Redis
    lists it) to ``remote_port``."""
    port = int(address.rsplit(":", 1)[1])
    sockets = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local, remote = (int(f.split(":")[1], 16) for f in fields[1:3])
        if (local, remote) == (port, remote_port):
            sockets.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in sockets:
                    return pid
            except FileNotFoundError:  # closed meanwhile
                continue
    raise LookupError(f"no process of {pids} has the connection from {address}")
