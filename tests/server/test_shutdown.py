"""SIGTERM stops a server cleanly: its control connections release their leases and
presence at once (another process sharing the Redis sees it), and the log stays quiet."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import threading

from tornado import httpclient, websocket

from ..conftest import ServerProcess, stop_process
from .test_control import TIMEOUT, Control

TOKEN = "test-token"


class JupyterProcess:
    """``jupyter server`` with the extension in a subprocess; ``url`` is its API root."""

    def __init__(self, root, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser",
             "--port=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
             "--ServerApp.jpserver_extensions={'zndraw_widget': True}", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.process.stdout:
            self.lines.append(line)
            match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            if match:
                self.url = f"http://127.0.0.1:{match.group(1)}/zndraw/api/"
                break
        else:
            raise RuntimeError("jupyter server did not start:\n" + "".join(self.lines))
        self._reader = threading.Thread(target=self.lines.extend, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()

    def log(self) -> str:
        self.process.wait(30)
        self._reader.join(10)
        return "".join(self.lines)


async def control(url: str, session: str) -> Control:
    return await Control(await websocket.websocket_connect(httpclient.HTTPRequest(
        url.replace("http", "ws") + f"ws?session={session}",
        headers={"Authorization": f"token {TOKEN}"}))).start()


async def hold_then_stop(leaving, staying_url: str, room: str) -> None:
    """A client of ``leaving`` holds a lease (for 300 s) and is present in ``room``; a
    watcher on the other process sees both released at once when ``leaving`` gets SIGTERM,
    and a new client there finds neither."""
    created = await httpclient.AsyncHTTPClient().fetch(
        staying_url + "rooms", method="POST", body=json.dumps({"name": room, "base": None}),
        headers={"Authorization": f"token {TOKEN}"})
    assert created.code == 201
    watcher = await control(staying_url, "watcher")
    await watcher.request("join_room", room=room)
    holder = await control(leaving.url, "holder")
    assert (await holder.request("join_room", room=room))["ok"]
    assert (await holder.request("lock_request", room=room, target="order", ttl=300))["ok"]
    await watcher.event(lambda e: e["type"] == "lease" and e["holder"] == "holder")
    await watcher.event(lambda e: e["type"] == "presence" and e["session"] == "holder"
                        and e["present"])

    leaving.process.send_signal(signal.SIGTERM)
    released = await watcher.event(lambda e: e["type"] == "lease" and e["target"] == "order")
    assert released["holder"] is None and "expired" not in released  # released, not expired
    await watcher.event(lambda e: e["type"] == "presence" and e["session"] == "holder"
                        and not e["present"])
    while await asyncio.wait_for(holder.connection.read_message(), TIMEOUT) is not None:
        pass  # events sent before the server closed the socket
    await asyncio.get_running_loop().run_in_executor(None, leaving.process.wait, 30)

    reader = await control(staying_url, "reader")
    joined = await reader.request("join_room", room=room)
    assert joined["leases"] == []
    assert "holder" not in {entry["session"] for entry in joined["presence"]}
    for client in (watcher, reader):
        client.close()


def test_sigterm_of_the_standalone_server(tmp_path, own_redis):
    env = {"ZNDRAW_REDIS_URL": own_redis}
    staying = ServerProcess(tmp_path / "shared", env=env, token=TOKEN)
    leaving = ServerProcess(tmp_path / "shared", env=env, token=TOKEN)
    try:
        asyncio.run(hold_then_stop(leaving, staying.url, "r"))
        assert leaving.process.returncode == 0
        lines = leaving.log().splitlines()
        assert lines[0].startswith("zndraw-widget serving on")
        assert lines[2:] == []  # no warning, no traceback, no pending task destroyed
    finally:
        leaving.stop()
        staying.stop()


def test_sigterm_of_a_jupyter_server(tmp_path, own_redis):
    staying = ServerProcess(tmp_path / "shared", env={"ZNDRAW_REDIS_URL": own_redis},
                            token=TOKEN)
    jupyter = JupyterProcess(tmp_path, f"--ZnDrawWidget.storage_path={tmp_path / 'shared'}",
                             f"--ZnDrawWidget.redis_url={own_redis}")
    try:
        asyncio.run(hold_then_stop(jupyter, staying.url, "r"))
        log = jupyter.log()
        assert jupyter.process.returncode == 0, log
        # (before the signal Jupyter itself warns once of its websocket ping settings)
        stopping = log[log.index("received signal 15"):]
        noisy = [line for line in stopping.splitlines()
                 if re.match(r"\[[WE] ", line) or "Traceback" in line or "Task was" in line]
        assert noisy == [], log
    finally:
        stop_process(jupyter.process)
        staying.stop()
