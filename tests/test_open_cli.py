"""``zndraw-widget open FILE...`` as real processes: into a running server, or into one the
command starts and keeps serving; the browser; bad files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import ase.io
import httpx
import numpy as np
import pytest

from zndraw_widget import Room

from .conftest import make_atoms, stop_process
from .server.test_export import assert_same, rich_frames

pytestmark = pytest.mark.usefixtures("no_ambient_server")


def zndraw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zndraw_widget", *args], capture_output=True,
                          text=True, timeout=90, env={**os.environ, **(env or {})})


def room_names(server) -> set[str]:
    response = httpx.get(server.url + "rooms", headers=server.headers, params={"limit": 1000})
    return {room["name"] for room in response.json()["rooms"]}


def recording_browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A ``BROWSER`` (the variable ``webbrowser`` obeys) that writes down the URL it gets."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.py"
    script.write_text(f"import sys\nopen({str(opened)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    return {"BROWSER": f"{sys.executable} {script} %s"}, opened


def test_open_uploads_files_into_a_room_of_a_running_server(server, tmp_path):
    first, second = rich_frames(3), rich_frames(2, seed=1)
    ase.io.write(tmp_path / "first.xyz", first)
    ase.io.write(tmp_path / "second.traj", second)
    env, opened = recording_browser(tmp_path)
    result = zndraw("open", str(tmp_path / "first.xyz"), str(tmp_path / "second.traj"),
                    "--url", server.base, "--token", server.token, env=env)
    assert result.returncode == 0, result.stderr
    room = Room("first", url=server.base, token=server.token)
    assert_same(room[:3], first)
    assert len(room) == 5
    page = f"{server.base}rooms/first?token={server.token}"
    assert f"5 frames in room 'first': {page}" in result.stdout
    assert opened.read_text().split() == [page]  # opened once, at the first frames

    again = zndraw("open", str(tmp_path / "first.xyz"), "--url", server.base, "--token",
                   server.token, "--no-browser", env=env)  # the name is taken: a new room
    assert again.returncode == 0, again.stderr
    name = re.search(r"3 frames in room '(first-[0-9a-f]{6})'", again.stdout).group(1)
    assert len(Room(name, url=server.base, token=server.token)) == 3
    appended = zndraw("open", str(tmp_path / "first.xyz"), "--room", "first", "--url",
                      server.base, "--token", server.token, "--no-browser")
    assert appended.returncode == 0, appended.stderr
    assert len(room) == 8
    assert opened.read_text().split() == [page]  # --no-browser opened nothing


def test_bad_files_are_clear_errors_and_leave_no_room(server, tmp_path):
    before = room_names(server)
    result = zndraw("open", str(tmp_path / "missing.xyz"), "--url", server.base, "--token",
                    server.token, "--no-browser")
    assert result.returncode == 1
    assert "zndraw-widget open: error: no such file" in result.stderr
    assert "Traceback" not in result.stderr
    broken = tmp_path / "broken.xyz"
    broken.write_text("2\n\nH 0 0 0\nH 0 0 1\n3\n\nH 0 0 x\n")
    result = zndraw("open", str(broken), "--url", server.base, "--token", server.token,
                    "--no-browser")
    assert result.returncode == 1 and "zndraw-widget open: error:" in result.stderr
    result = zndraw("open", str(broken), "--url", server.base, "--token", "wrong",
                    "--no-browser")
    assert result.returncode == 1 and "refused the credentials" in result.stderr
    assert room_names(server) == before


def test_open_without_a_server_starts_one_and_keeps_serving(tmp_path):
    frames = make_atoms(4, natoms=6)
    ase.io.write(tmp_path / "md-run.xyz", frames)
    process = subprocess.Popen(
        [sys.executable, "-m", "zndraw_widget", "open", str(tmp_path / "md-run.xyz"),
         "--no-browser", "--port", "0", "--storage", str(tmp_path / "storage")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in process.stdout:  # the server's line, then the upload's
            output.append(line)
            if "serving until Ctrl-C" in line:
                break
        text = "".join(output)
        match = re.search(r"4 frames in room 'md-run': (http://\S+)/rooms/md-run\?token=(\S+)",
                          text)
        assert match, text
        base, token = match.group(1) + "/", match.group(2)
        room = Room("md-run", url=base, token=token)
        got = room[:]
        np.testing.assert_allclose(got[3].positions, frames[3].positions)
        assert [a.info["step"] for a in got] == [0, 1, 2, 3]
        with httpx.Client(follow_redirects=True) as browser:  # keeps the login cookie
            page = browser.get(f"{base}rooms/md-run", params={"token": token})
        assert page.status_code == 200 and "md-run" in page.text
        room.close()
        assert process.poll() is None  # still serving
    finally:
        stop_process(process)
    assert process.returncode == 0


def test_a_failed_upload_stops_the_server_it_started(tmp_path):
    broken = tmp_path / "broken.xyz"
    broken.write_text("1\n\nH 0 0 0\n" * 3 + "2\n\nH 0 0 0\n")  # the last frame is cut off
    result = zndraw("open", str(broken), "--no-browser", "--port", "0", "--storage",
                    str(tmp_path / "storage"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "zndraw-widget open: error:" in result.stderr
    result = zndraw("open", str(tmp_path / "missing.pdb"), "--no-browser", "--port", "0",
                    "--storage", str(tmp_path / "storage"))
    assert result.returncode == 1 and "no such file" in result.stderr
    assert "serving on" not in result.stdout  # checked before a server is started
