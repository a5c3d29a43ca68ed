"""The widget end to end: one JupyterLab server, one headless Chromium and one standalone
server on another origin for the whole ``tests/e2e`` package (package scope: Playwright's
event loop must be gone before the rest of the suite's asyncio tests run). Tests wait on the
viewer's DOM markers through ``ViewerPage``, never on fixed sleeps; screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright.sync_api")
pytest.importorskip("jupyterlab")
pytest.importorskip("anywidget")

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from ..conftest import CHROMIUM, CHROMIUM_ARGS, ServerProcess, free_port, stop_process  # noqa: E402
from .viewer_page import ViewerPage  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "src" / "zndraw_widget" / "static" / "widget.js"
# Served under a prefix as JupyterHub does (/user/<name>/): the widget must find its API there.
BASE_URL = "/user/e2e/"

# The main notebook: a 40-frame, 64-atom trajectory in room "e2e-main", shared by the tests
# of several files (they assert relative to what they find, not on the order they run in).
SETUP = """\
import numpy as np, ase
from zndraw_widget import Viewer

def molecule(i, n=64):
    rng = np.random.default_rng(i)
    grid = np.stack(np.meshgrid(*[np.arange(4)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    positions = grid * 1.4 + 0.15 * np.sin(i / 3) + rng.normal(0, 0.05, (n, 3))
    return ase.Atoms(numbers=[6, 8, 1, 7] * (n // 4), positions=positions, cell=np.eye(3) * 5.6,
                     pbc=True)

frames = [molecule(i) for i in range(40)]
v = Viewer(frames, room="e2e-main")
v
"""
FOLLOWER = "from zndraw_widget import Viewer\nViewer(room='e2e-main')"


def pytest_collection_modifyitems(items):
    """Browser tests get longer than the suite's default timeout."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(240))


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """pytest-jupyter's autouse loop fixture would grab (and close) Playwright's running
    loop: these tests use no in-process Jupyter server, so neither is needed."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    yield


def _ensure_bundle() -> None:
    """The package build makes the bundle; in a source checkout rebuild it when stale."""
    sources = list((ROOT / "js").glob("**/*.ts"))
    stale = not BUNDLE.is_file() or any(p.stat().st_mtime > BUNDLE.stat().st_mtime for p in sources)
    if stale and (ROOT / "node_modules").is_dir() and shutil.which("npm"):
        subprocess.run(["npm", "run", "build"], cwd=ROOT, check=True, capture_output=True)
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE} is missing: `pip install -e .` (or `npm ci && npm run build`)")


@dataclass
class Lab:
    """A running JupyterLab: its URL (with the base prefix), token and notebook directory."""

    url: str
    token: str
    dir: Path
    log: Path

    @property
    def origin(self) -> str:
        return "/".join(self.url.split("/")[:3])

    def write_notebook(self, name: str, cells: list[str]) -> None:
        """Write ``name`` with one code cell per source, and a kernelspec (else JupyterLab
        asks for a kernel)."""
        notebook = {
            "cells": [{"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8],
                       "metadata": {}, "outputs": [], "source": source} for source in cells],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python",
                               "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4, "nbformat_minor": 5,
        }
        (self.dir / name).write_text(json.dumps(notebook))

    def open(self, browser: Browser, name: str, app: str = "lab") -> ViewerPage:
        """Notebook ``name`` in JupyterLab (``app="lab"``, a fresh workspace) or Notebook 7
        (``"notebooks"``), once its kernel is idle."""
        context = browser.new_context(viewport={"width": 1200, "height": 900},
                                      accept_downloads=True)
        page = ViewerPage(context.new_page())
        if app == "lab":
            page.page.goto(f"{self.url}/lab/workspaces/{uuid.uuid4().hex}/tree/{name}"
                           f"?reset&token={self.token}")
        else:
            page.page.goto(f"{self.url}/notebooks/{name}?token={self.token}")
        try:
            page.wait_kernel_idle()
        except Exception:
            page.diagnose("waiting for the kernel")
            raise
        return page


@contextlib.contextmanager
def run_lab(tmp_path_factory, server_config: dict | None = None) -> Iterator[Lab]:
    """A JupyterLab server (subprocess) with a private config (plus ``server_config``, as
    its ``jupyter_server_config.json``), storage and notebook directory."""
    base = tmp_path_factory.mktemp("lab")
    for name in ("config", "runtime", "notebooks", "storage", "settings", "workspaces", "ipython"):
        (base / name).mkdir()
    # No "get notified about Jupyter news?" toast over the widget.
    notification = base / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    if server_config:
        (base / "config" / "jupyter_server_config.json").write_text(json.dumps(server_config))
    token = uuid.uuid4().hex
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "IPYTHONDIR": str(base / "ipython"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("ZNDRAW_URL", "ZNDRAW_TOKEN", "JUPYTERHUB_API_TOKEN"):
        env.pop(name, None)
    log_path = base / "lab.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip", "127.0.0.1",
         "--port", str(port), f"--IdentityProvider.token={token}",
         "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
         f"--ServerApp.root_dir={base / 'notebooks'}",
         f"--ZnDrawWidget.storage_path={base / 'storage'}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--ServerApp.base_url={BASE_URL}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=base,
    )
    url = f"http://127.0.0.1:{port}{BASE_URL.rstrip('/')}"
    deadline = time.monotonic() + 60
    with httpx.Client() as client:
        while True:  # poll the server's status endpoint until it answers
            if process.poll() is not None:
                pytest.fail("jupyterlab exited:\n" + log_path.read_text()[-3000:])
            try:
                if client.get(f"{url}/api/status", params={"token": token},
                              timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("jupyterlab did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.1)  # polling interval of a readiness probe, not synchronisation
    yield Lab(url=url, token=token, dir=base / "notebooks", log=log_path)
    stop_process(process, 15)
    log.close()


@pytest.fixture(scope="package")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """A JupyterLab server with the zndraw extension."""
    with run_lab(tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), with the front end bundle built."""
    _ensure_bundle()
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def remote(lab, tmp_path_factory) -> Iterator[ServerProcess]:
    """A standalone server on another origin than the notebook pages, allowing them."""
    process = ServerProcess(tmp_path_factory.mktemp("remote"), "--allow-origin", lab.origin)
    yield process
    process.stop()


@pytest.fixture(scope="package")
def main_page(browser, lab) -> Iterator[ViewerPage]:
    """The SETUP notebook, run and drawn (``first_render`` holds what it first showed)."""
    lab.write_notebook("main.ipynb", [SETUP])
    page = lab.open(browser, "main.ipynb")
    page.run_all_cells()
    page.wait_rendered()
    yield page
    page.close()


@pytest.fixture
def open_notebook(browser, lab) -> Iterator[Callable[..., ViewerPage]]:
    """``open_notebook(name, cells=None, app="lab")``: notebook ``name`` (written from
    ``cells`` if given) with every cell run; closed after the test."""
    opened: list[ViewerPage] = []

    def open_(name: str, cells: list[str] | None = None, app: str = "lab") -> ViewerPage:
        if cells is not None:
            lab.write_notebook(name, cells)
        page = lab.open(browser, name, app)
        opened.append(page)
        page.run_all_cells()
        return page

    yield open_
    for page in opened:
        page.close()
