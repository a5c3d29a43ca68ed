"""Rooms kept inside a kernel that reaches no zndraw server (VS Code, Colab, a Jupyter
server without the extension, no ``ZNDRAW_URL``).

The kernel runs the standalone application itself: the same ``RoomService`` on the embedded
store, in a temporary directory, served on loopback only behind a random token, in a daemon
thread with its own event loop. ``Room`` objects of the kernel find it through
:func:`~.client.discovery.discover` like any server, and views reach it through the widget's
comm (:mod:`.comm_transport`); so nothing differs for the user but where the rooms live.
The rooms end with the kernel.
"""

from __future__ import annotations

import asyncio
import atexit
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client.discovery import Endpoint

SOURCE = "this kernel's own rooms (no zndraw server found)"
START_TIMEOUT = 30.0

_lock = threading.Lock()
_endpoint: Endpoint | None = None


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (IPython's shell with a kernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def endpoint() -> Endpoint:
    """The endpoint of this process's own rooms, started on first use."""
    global _endpoint
    with _lock:
        if _endpoint is None:
            _endpoint = _start()
        return _endpoint


def _start() -> Endpoint:
    from .client.discovery import Endpoint, api_url
    from .server.standalone import make_app
    from .settings import Settings

    storage = Path(tempfile.mkdtemp(prefix="zndraw-kernel-"))
    token = secrets.token_urlsafe(24)
    app = make_app(Settings(storage_path=storage), token)
    started: dict[str, object] = {}
    ready = threading.Event()

    async def main() -> None:
        from tornado import httpserver, netutil

        runtime = app.zndraw_runtime
        try:
            await runtime.start()
            server = httpserver.HTTPServer(app)
            sockets = netutil.bind_sockets(0, address="127.0.0.1")
            server.add_sockets(sockets)
            started["port"] = sockets[0].getsockname()[1]
        except Exception as error:
            started["error"] = error
            return
        finally:
            ready.set()
        await asyncio.Event().wait()  # serve until the process ends

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="zndraw-kernel-rooms",
                              daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT) or "error" in started:
        raise RuntimeError(f"cannot keep rooms in this kernel: {started.get('error', 'timeout')}")
    atexit.register(shutil.rmtree, storage, ignore_errors=True)
    return Endpoint(api_url(f"http://127.0.0.1:{started['port']}/"), token, SOURCE, local=True)
