"""What the job tests share: trajectory files written once, uploads over HTTP, and a control
connection that follows a job to its end through its ``job`` events."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import ase
import ase.io
import httpx
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
from tornado import httpclient, websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import stop_process
from ..server.test_control import Control

FINAL = ("done", "failed", "cancelled")


def write_trajectory(path: Path, frames: int, natoms: int = 64, seed: int = 0) -> list[ase.Atoms]:
    """``frames`` frames with energies, forces and an info key, written as extxyz."""
    rng = np.random.default_rng(seed)
    images = []
    for step in range(frames):
        atoms = ase.Atoms(numbers=rng.integers(1, 30, natoms),
                          positions=rng.random((natoms, 3)) * 10, cell=np.eye(3) * 10,
                          pbc=True)
        atoms.info["step"] = step
        atoms.calc = SinglePointCalculator(atoms, energy=float(rng.normal()),
                                           forces=rng.normal(size=(natoms, 3)))
        images.append(atoms)
    ase.io.write(path, images, format="extxyz")
    return images


def repeat_file(source: Path, target: Path, times: int) -> None:
    """``target``: ``source`` ``times`` times over (concatenated extxyz is extxyz)."""
    data = source.read_bytes()
    with target.open("wb") as file:
        for _ in range(times):
            file.write(data)


class Client:
    """One user of a server process: HTTP calls and control connections."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.headers = {"Authorization": f"token {token}"}

    async def upload(self, room: str, path: Path, name: str | None = None,
                     **params: str) -> httpx.Response:
        """Stream the file at ``path`` (chunked: a refusal closes the connection, so
        refused uploads are sent with :meth:`upload_small`)."""
        async with httpx.AsyncClient(timeout=120) as client:
            with path.open("rb") as body:
                return await client.post(f"{self.url}rooms/{room}/files",
                                         params={"name": name or path.name, **params},
                                         content=_chunks(body), headers=self.headers)

    async def upload_held(self, room: str, path: Path, held_after: int,
                          release: asyncio.Event) -> httpx.Response:
        """Stream the file at ``path``, holding the rest back after its first
        ``held_after`` bytes until ``release`` is set (the job cannot end meanwhile)."""
        async def body():
            with path.open("rb") as file:
                yield file.read(held_after)
                await release.wait()
                async for chunk in _chunks(file):
                    yield chunk

        async with httpx.AsyncClient(timeout=120) as client:
            return await client.post(f"{self.url}rooms/{room}/files",
                                     params={"name": path.name}, content=body(),
                                     headers=self.headers)

    def upload_small(self, room: str, body: bytes, name: str, **params: str) -> httpx.Response:
        """Send a small file whole (with its length: a refusal is answered after it)."""
        return self.call("POST", f"rooms/{room}/files", params={"name": name, **params},
                         content=body)

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self.headers, timeout=60,
                             **kwargs)

    async def control(self, room: str, timeout: float = 120) -> Control:
        """A control connection joined to ``room`` (events waited for up to ``timeout``)."""
        from ..server import test_control

        test_control.TIMEOUT = timeout
        control = await Control(await websocket.websocket_connect(httpclient.HTTPRequest(
            self.url.replace("http", "ws") + "ws", headers=self.headers))).start()
        reply = await control.request("join_room", room=room)
        assert reply["ok"], reply
        return control

    def frames(self, room: str, index: str) -> list[ase.Atoms]:
        response = self.call("GET", f"rooms/{room}/frames", params={"index": index})
        assert response.status_code == 200, response.text
        return FrameBatch.from_wire(codec.decode(response.content)).to_atoms()


async def _chunks(file, size: int = 1 << 20):
    while chunk := file.read(size):
        yield chunk


async def follow(control: Control, job_id: str) -> list[dict]:
    """Every ``job`` event of ``job_id`` up to and with its final state."""
    seen = []
    while not seen or seen[-1]["state"] not in FINAL:
        event = await control.event(lambda e: e["type"] == "job" and e["job"]["id"] == job_id)
        seen.append(event["job"])
    return seen


def same_frames(got: list[ase.Atoms], expected: list[ase.Atoms]) -> None:
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(mine.positions, theirs.positions)
        np.testing.assert_array_equal(mine.numbers, theirs.numbers)
        assert mine.info["step"] == theirs.info["step"]
        np.testing.assert_allclose(mine.get_potential_energy(), theirs.get_potential_energy())
        np.testing.assert_allclose(mine.get_forces(), theirs.get_forces())


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: its children, theirs, ..."""
    below = children(pid)
    return below + [d for child in below for d in descendants(child)]


def run(coroutine):
    return asyncio.run(coroutine)


class WorkerProcess:
    """``zndraw-widget worker`` in a subprocess, ready once Celery says so."""

    def __init__(self, storage: Path, redis_url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zndraw_widget", "worker", "--storage", str(storage),
             "--redis-url", redis_url, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                break
        else:
            raise RuntimeError("the worker did not start:\n" + "".join(self.lines))
        self._reader = threading.Thread(target=self.lines.extend, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()

    def stop(self) -> None:
        stop_process(self.process)
        self._reader.join(10)


async def kill_mid_import(importer: Client, watcher: Client, room: str, file: Path,
                          kill: Callable[[], None]) -> dict:
    """Upload ``file`` into ``room`` through ``importer``'s server, its body held part way;
    once the job has committed frames, ``kill()`` (a server or a worker) and let the body
    go on: the job as it ended, heard through ``watcher``'s server."""
    control = await watcher.control(room, timeout=60)
    release = asyncio.Event()
    upload = asyncio.ensure_future(importer.upload_held(room, file, 8 << 20, release))
    running = await control.event(lambda e: e["type"] == "job" and e["job"]["frames_done"] > 0)
    kill()
    release.set()
    ended = await control.event(
        lambda e: e["type"] == "job" and e["job"]["state"] in FINAL
        and e["job"]["id"] == running["job"]["id"])
    with contextlib.suppress(httpx.HTTPError):  # its server may be gone
        await upload
    control.close()
    return ended["job"]
