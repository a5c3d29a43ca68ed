"""The standalone server as a user runs it: its own process, killed and restarted."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import numpy as np

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import ServerProcess, make_atoms


def call(server: ServerProcess, method: str, path: str, body: bytes | None = None,
         headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(server.url + path, data=body, method=method,
                                     headers={**server.headers, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_serve_requires_a_token_and_binds_loopback(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "zndraw_widget", "serve", "--port", "0", "--storage",
         str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert "serving on http://127.0.0.1:" in line
        token = line.rsplit("(token: ", 1)[1].rstrip(")\n")
        assert len(token) >= 24
        url = line.split("serving on ", 1)[1].split(" ", 1)[0] + "zndraw/api/rooms"
        try:
            urllib.request.urlopen(url, timeout=10)
            raise AssertionError("a request without the token was served")
        except urllib.error.HTTPError as error:
            assert error.code == 401
            assert "token" in json.loads(error.read())["message"]
        request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["total"] == 0
    finally:
        process.terminate()
        process.wait(10)


def test_a_second_process_on_the_same_storage_is_refused(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "zndraw_widget", "serve", "--port", "0", "--storage",
             str(tmp_path), "--token", "x"], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "in use by another process" in second.stderr
    finally:
        server.stop()


def _post_frames(server: ServerProcess, room: str, base: int, atoms) -> int:
    body = codec.encode(FrameBatch.from_atoms(atoms).to_wire())
    status, reply = call(server, "POST", f"rooms/{room}/frames?base_version={base}", body)
    assert status == 201, reply
    return json.loads(reply)["order_version"]


def test_sigkill_mid_extend_keeps_every_acknowledged_frame(tmp_path):
    server = ServerProcess(tmp_path)
    status, _ = call(server, "POST", "rooms", json.dumps({"name": "md", "base": None}).encode())
    assert status == 201
    acknowledged = []
    version = 0
    for batch in range(5):
        atoms = make_atoms(40, natoms=50, seed=batch)
        version = _post_frames(server, "md", version, atoms)
        acknowledged.extend(atoms)

    # One more extend whose body is half sent when the server dies.
    body = codec.encode(FrameBatch.from_atoms(make_atoms(40, natoms=50, seed=99)).to_wire())
    address = urlsplit(server.url)
    connection = socket.create_connection((address.hostname, address.port))
    connection.sendall(
        f"POST {address.path}rooms/md/frames?base_version={version} HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\nAuthorization: token {server.token}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2])
    # And one whose body is complete but whose answer is never read.
    late = make_atoms(40, natoms=50, seed=100)
    late_body = codec.encode(FrameBatch.from_atoms(late).to_wire())
    other = socket.create_connection((address.hostname, address.port))
    other.sendall(
        f"POST {address.path}rooms/md/frames?base_version={version} HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\nAuthorization: token {server.token}\r\n"
        f"Content-Length: {len(late_body)}\r\n\r\n".encode() + late_body)
    server.kill()
    connection.close()
    other.close()

    restarted = ServerProcess(tmp_path)
    try:
        status, reply = call(restarted, "GET", "rooms/md/frames")
        assert status == 200
        message = codec.decode(reply)
        frames = FrameBatch.from_wire(message).to_atoms()
        # Either the late extend was committed whole before the kill, or not at all.
        assert len(frames) in (len(acknowledged), len(acknowledged) + len(late))
        expected = acknowledged + late[: len(frames) - len(acknowledged)]
        for got, want in zip(frames, expected):
            assert got == want
        np.testing.assert_array_equal(message["versions"], 1)
        # The restarted server keeps working on the same room.
        info = json.loads(call(restarted, "GET", "rooms/md")[1])
        _post_frames(restarted, "md", info["order_version"], make_atoms(2, seed=7))
    finally:
        restarted.stop()
