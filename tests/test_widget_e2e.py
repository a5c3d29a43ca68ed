"""The widget in a real JupyterLab and a real (headless) Chromium.

One JupyterLab server and one browser for the module; each test waits on DOM markers the
widget sets (``data-zndraw-rendered`` etc.), never on fixed sleeps. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright.sync_api")
pytest.importorskip("jupyterlab")
pytest.importorskip("anywidget")

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from .conftest import CHROMIUM, CHROMIUM_ARGS, ServerProcess, stop_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BUNDLE = ROOT / "src" / "zndraw_widget" / "static" / "widget.js"
TIMEOUT_MS = 60_000
# Served under a prefix as JupyterHub does (/user/<name>/): the widget must find its API there.
BASE_URL = "/user/e2e/"
VIEWER = ".zn-root"

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """pytest-jupyter's autouse loop fixture would grab (and close) Playwright's running
    loop: this module uses no in-process Jupyter server, so neither is needed."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_bundle() -> None:
    """The package build makes the bundle; in a source checkout rebuild it when stale."""
    sources = list((ROOT / "js").glob("**/*.ts"))
    stale = not BUNDLE.is_file() or any(p.stat().st_mtime > BUNDLE.stat().st_mtime for p in sources)
    if stale and (ROOT / "node_modules").is_dir() and shutil.which("npm"):
        subprocess.run(["npm", "run", "build"], cwd=ROOT, check=True, capture_output=True)
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE} is missing: `pip install -e .` (or `npm ci && npm run build`)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server (subprocess) with the zndraw extension and a private storage."""
    _ensure_bundle()
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install -y chromium")
    base = tmp_path_factory.mktemp("lab")
    for name in ("config", "runtime", "notebooks", "storage", "settings", "workspaces", "ipython"):
        (base / name).mkdir()
    # No "get notified about Jupyter news?" toast over the widget.
    notification = base / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token = uuid.uuid4().hex
    port = _free_port()
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
    log = open(base / "lab.log", "w")
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
                pytest.fail("jupyterlab exited:\n" + (base / "lab.log").read_text()[-3000:])
            try:
                if client.get(f"{url}/api/status", params={"token": token}, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("jupyterlab did not start:\n" + (base / "lab.log").read_text()[-3000:])
            time.sleep(0.1)  # polling interval of a readiness probe, not synchronisation
    yield {"url": url, "token": token, "dir": base / "notebooks", "log": base / "lab.log"}
    stop_process(process, 15)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def write_notebook(directory: Path, name: str, cells: list[str]) -> str:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8],
                   "metadata": {}, "outputs": [], "source": source} for source in cells],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4, "nbformat_minor": 5,
    }
    (directory / name).write_text(json.dumps(notebook))
    return name


def open_notebook(browser, lab, name: str, app: str = "lab") -> Page:
    """Notebook ``name`` in JupyterLab (``app="lab"``) or Notebook 7 (``"notebooks"``)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page._zndraw_errors = errors  # type: ignore[attr-defined]
    if app == "lab":
        page.goto(f"{lab['url']}/lab/workspaces/{uuid.uuid4().hex}/tree/{name}"
                  f"?reset&token={lab['token']}")
    else:
        page.goto(f"{lab['url']}/notebooks/{name}?token={lab['token']}")
    try:
        page.wait_for_function(
            "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status"
            " === 'idle'", timeout=TIMEOUT_MS)
    except Exception:
        diagnose(page, "waiting for the kernel")
        raise
    return page


def run_all(page: Page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


@contextlib.contextmanager
def running_notebook(browser, lab, name: str, cells: list[str] | None = None,
                     app: str = "lab") -> Iterator[Page]:
    """A page of notebook ``name`` (written from ``cells`` if given), every cell run."""
    if cells is not None:
        write_notebook(lab["dir"], name, cells)
    page = open_notebook(browser, lab, name, app)
    try:
        run_all(page)
        yield page
    finally:
        page.context.close()


def kernel_execute(page: Page, code: str) -> None:
    """Run ``code`` in the notebook's kernel (as a cell would) and wait until it is done;
    fail with the traceback if it raised."""
    result = page.evaluate(
        """async (code) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const future = kernel.requestExecute({code, store_history: false});
            let error = null;
            future.onIOPub = (msg) => {
                if (msg.header.msg_type === 'error') error = msg.content.traceback.join('\\n');
            };
            const reply = await future.done;
            return {status: reply.content.status, error};
        }""", code)
    assert result["status"] == "ok", result["error"]


def wait_rendered(page: Page, selector: str = VIEWER, frame: int | None = None,
                  timeout: int = TIMEOUT_MS) -> dict:
    """Wait until the viewer has drawn (``frame``, if given); return its data attributes."""
    condition = ("(sel) => { const el = document.querySelector(sel.s);"
                 " if (!el) return false;"
                 " if (el.dataset.zndrawStatus === 'error') return true;"
                 " return sel.f === null ? el.dataset.zndrawRendered !== undefined"
                 " : el.dataset.zndrawRendered === String(sel.f); }")
    try:
        page.wait_for_function(condition, arg={"s": selector, "f": frame}, timeout=timeout)
    except Exception:
        diagnose(page, f"waiting for frame {frame} of {selector}")
        raise
    data = page.eval_on_selector(selector, "el => ({...el.dataset, message: "
                                           "el.querySelector('.zn-message')?.textContent})")
    assert data.get("zndrawStatus") != "error", data
    return data


def diagnose(page: Page, what: str) -> None:
    """Save what the page shows and print what the widget and the notebook say."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-failure.png"))
    state = page.evaluate("""() => ({
        viewers: [...document.querySelectorAll('.zn-root')].map(el => ({...el.dataset,
            message: el.querySelector('.zn-message')?.textContent,
            banner: el.querySelector('.zn-banner')?.textContent})),
        outputs: [...document.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText.slice(0, 2000)),
        kernel: window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status,
    })""")
    print(f"while {what}: {json.dumps(state, indent=1)}\npage errors: {page._zndraw_errors}")


def foreground_pixels(page: Page, selector: str = VIEWER) -> tuple[int, int]:
    """(pixels differing from the background, all pixels) of the viewer's canvas."""
    return tuple(page.eval_on_selector(selector + " canvas", """canvas => {
        const c = document.createElement('canvas');
        c.width = canvas.width; c.height = canvas.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(canvas, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const bg = [d[0], d[1], d[2]];
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (Math.abs(d[i] - bg[0]) + Math.abs(d[i+1] - bg[1]) + Math.abs(d[i+2] - bg[2]) > 30) n++;
        }
        return [n, d.length / 4];
    }"""))


def screenshot(page: Page, name: str, selector: str = VIEWER) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.locator(selector).first.screenshot(path=str(path))
    return path


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


@pytest.fixture(scope="module")
def main_page(browser, lab):
    name = write_notebook(lab["dir"], "main.ipynb", [SETUP])
    page = open_notebook(browser, lab, name)
    run_all(page)
    yield page
    page.context.close()


def test_viewer_draws_atoms(main_page):
    data = wait_rendered(main_page)
    assert data["zndrawRendered"] == "0" and data["zndrawLength"] == "40"
    assert data["zndrawAtoms"] == "64"
    changed, total = foreground_pixels(main_page)
    assert changed > 0.02 * total, f"only {changed} of {total} pixels differ from the background"
    screenshot(main_page, "e2e-viewer.png")
    assert not main_page._zndraw_errors


def test_play_advances_the_frame_counter(main_page):
    wait_rendered(main_page)
    counter = main_page.locator(f"{VIEWER} [data-role=counter]")
    before = counter.text_content()
    main_page.click(f"{VIEWER} [data-role=play]")
    main_page.wait_for_function(
        "() => Number(document.querySelector('.zn-root').dataset.zndrawRendered) >= 5")
    assert counter.text_content() != before
    main_page.click(f"{VIEWER} [data-role=play]")  # pause
    main_page.wait_for_function(
        "() => document.querySelector('.zn-root').dataset.zndrawPlaying === 'false'")
    screenshot(main_page, "e2e-playing.png")


def test_a_kernel_write_changes_the_view(main_page):
    wait_rendered(main_page)
    main_page.locator(VIEWER).focus()
    main_page.keyboard.press("Home")
    wait_rendered(main_page, frame=0)
    # Replace frame 0 by a bigger molecule from the kernel: every open view refetches it.
    kernel_execute(main_page, "v.frames[0] = molecule(100, n=32)\nv.frames.append(molecule(101))")
    main_page.wait_for_function(
        "() => { const d = document.querySelector('.zn-root').dataset;"
        " return d.zndrawAtoms === '32' && d.zndrawLength === '41'; }")
    screenshot(main_page, "e2e-after-write.png")


def test_a_kernel_lock_shows_in_the_view(main_page):
    wait_rendered(main_page)
    locked = "(targets) => document.querySelector('.zn-root').dataset.zndrawLocked === targets"
    kernel_execute(main_page, "lock = v.frames.lock()\nlock.__enter__()")
    main_page.wait_for_function(locked, arg="order")
    assert "frames locked by" in main_page.locator(f"{VIEWER} .zn-status").text_content()
    kernel_execute(main_page, "lock.__exit__(None, None, None)")
    main_page.wait_for_function(locked, arg="")
    assert "locked" not in main_page.locator(f"{VIEWER} .zn-status").text_content()


def test_step_trait_moves_the_view(main_page):
    kernel_execute(main_page, "v.step = 7")
    wait_rendered(main_page, frame=7)


def atom_on_screen(page: Page, atom: int) -> dict:
    """Page coordinates of an atom's centre (from the viewer's camera)."""
    return page.evaluate("""(atom) => {
        const viewer = document.querySelector('.zn-root').parentElement.zndraw;
        const r = viewer.renderer, p = r.positions;
        const v = r.camera.position.clone().set(p[3*atom], p[3*atom+1], p[3*atom+2]).project(r.camera);
        const rect = r.canvas.getBoundingClientRect();
        return {x: rect.left + (v.x + 1) / 2 * rect.width, y: rect.top + (1 - v.y) / 2 * rect.height};
    }""", atom)


def nearest_atom(page: Page) -> int:
    """An atom in front (the one nearest the camera), so that a click hits it."""
    return page.evaluate("""() => {
        const r = document.querySelector('.zn-root').parentElement.zndraw.renderer;
        const p = r.positions, c = r.camera.position;
        let best = 0, bestD = Infinity;
        for (let i = 0; i < p.length / 3; i++) {
            const d = (p[3*i]-c.x)**2 + (p[3*i+1]-c.y)**2 + (p[3*i+2]-c.z)**2;
            if (d < bestD) { bestD = d; best = i; }
        }
        return best;
    }""")


def test_click_selects_and_drag_edits_the_frame(main_page):
    page = main_page
    page.locator(VIEWER).focus()
    page.keyboard.press("Home")
    wait_rendered(page, frame=0)
    atom = nearest_atom(page)
    point = atom_on_screen(page, atom)
    page.mouse.click(point["x"], point["y"])
    kernel_execute(page, f"assert v.selection == [{atom}], v.selection")
    # Drag the selected atom: the browser takes the frame lease and PATCHes the positions.
    before = page.evaluate("() => document.querySelector('.zn-root').dataset.zndrawEdited")
    page.mouse.move(point["x"], point["y"])
    page.mouse.down()
    page.mouse.move(point["x"] + 40, point["y"] + 25, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "(before) => { const d = document.querySelector('.zn-root').dataset;"
        " return d.zndrawEdited !== undefined && d.zndrawEdited !== before; }", arg=before)
    kernel_execute(page, f"moved = v.frames[0].positions[{atom}]\n"
                         f"assert np.linalg.norm(moved - molecule(100, n=32).positions[{atom}]) > 0.3")
    screenshot(page, "e2e-selected-and-moved.png")
    page.keyboard.press("Escape")
    kernel_execute(page, "assert v.selection == [], v.selection")


def test_reconnects_and_catches_up_after_a_dropped_websocket(main_page):
    page = main_page
    length = int(wait_rendered(page)["zndrawLength"])
    page.evaluate("""() => {
        const root = document.querySelector('.zn-root');
        window.__zndrawSeen = [];
        new MutationObserver(() => window.__zndrawSeen.push(
            [root.dataset.zndrawControl, root.querySelector('.zn-banner').textContent]))
            .observe(root, {attributes: true, attributeFilter: ['data-zndraw-control']});
        root.parentElement.zndraw.control.socket.close();
    }""")
    # While it is away the room changes; once back it resynchronises by seq.
    kernel_execute(page, "v.frames.append(molecule(102))")
    page.wait_for_function(
        "(n) => { const seen = window.__zndrawSeen.map(s => s[0]);"
        " const d = document.querySelector('.zn-root').dataset;"
        " return seen.includes('reconnecting') && d.zndrawControl === 'open'"
        " && d.zndrawLength === String(n); }", arg=length + 1)
    seen = page.evaluate("window.__zndrawSeen")
    assert any("reconnecting" in banner for status, banner in seen if status == "reconnecting")


def test_screenshot_button_downloads_a_png(main_page):
    with main_page.expect_download() as download:
        main_page.click(f"{VIEWER} [data-role=screenshot]")
    path = ARTIFACTS / "e2e-download.png"
    download.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def background_pixel(page: Page) -> list[int]:
    return page.eval_on_selector(VIEWER + " canvas", """canvas => {
        const c = document.createElement('canvas'); c.width = 4; c.height = 4;
        const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0, 4, 4, 0, 0, 4, 4);
        return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
    }""")


def test_background_follows_the_jupyterlab_theme(main_page):
    page = main_page
    assert sum(background_pixel(page)) > 600  # light theme: white
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme',"
                  " {theme: 'JupyterLab Dark'})")
    try:
        page.wait_for_function("""() => {
            const canvas = document.querySelector('.zn-root canvas');
            const c = document.createElement('canvas'); c.width = 4; c.height = 4;
            const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0, 4, 4, 0, 0, 4, 4);
            const d = ctx.getImageData(0, 0, 1, 1).data;
            return d[0] + d[1] + d[2] < 150;
        }""")
        screenshot(page, "e2e-dark-theme.png")
    finally:
        page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Light'})")
    page.wait_for_function("""() => {
        const canvas = document.querySelector('.zn-root canvas');
        const c = document.createElement('canvas'); c.width = 4; c.height = 4;
        const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0, 4, 4, 0, 0, 4, 4);
        const d = ctx.getImageData(0, 0, 1, 1).data;
        return d[0] + d[1] + d[2] > 600;
    }""")


def test_two_pages_follow_one_presenter(browser, lab, main_page):
    present = int(main_page.eval_on_selector(VIEWER, "el => el.dataset.zndrawPresent"))
    cells = ["from zndraw_widget import Viewer\nViewer(room='e2e-main')"]
    with running_notebook(browser, lab, "follower.ipynb", cells) as follower:
        wait_rendered(follower)
        # The presenter's view counts the follower's view as present
        main_page.wait_for_function(
            f"() => Number(document.querySelector('.zn-root').dataset.zndrawPresent) > {present}")
        assert " with " in main_page.locator(f"{VIEWER} .zn-status").text_content()
        follower.wait_for_function(
            "() => document.querySelector('.zn-root').dataset.zndrawControl === 'open'")
        main_page.wait_for_function(
            "() => document.querySelector('.zn-root').dataset.zndrawControl === 'open'")
        # The presenter steps forward with the keyboard: the follower moves along.
        main_page.locator(VIEWER).focus()
        main_page.keyboard.press("End")
        end = int(main_page.eval_on_selector(VIEWER, "el => el.dataset.zndrawLength")) - 1
        wait_rendered(main_page, frame=end)
        wait_rendered(follower, frame=end)
        main_page.keyboard.press("ArrowLeft")
        wait_rendered(main_page, frame=end - 1)
        wait_rendered(follower, frame=end - 1)
        screenshot(follower, "e2e-follower.png")


def test_viewer_in_notebook_7(browser, lab, main_page):
    cells = ["from zndraw_widget import Viewer\nViewer(room='e2e-main')"]
    with running_notebook(browser, lab, "classic.ipynb", cells, app="notebooks") as page:
        data = wait_rendered(page)
        assert int(data["zndrawLength"]) > 1
        changed, total = foreground_pixels(page)
        assert changed > 0.01 * total
        screenshot(page, "e2e-notebook7.png")


@pytest.fixture(scope="module")
def remote(lab, tmp_path_factory):
    """A standalone server on another origin than the notebook page, allowing that page."""
    origin = "/".join(lab["url"].split("/")[:3])
    process = ServerProcess(tmp_path_factory.mktemp("remote"), "--allow-origin", origin)
    yield process
    process.stop()


def test_viewer_of_a_standalone_server_on_another_origin(browser, lab, remote):
    """CORS, the websocket's origin check and the token asked of the kernel (never a
    synced trait), end to end."""
    cells = [SETUP.replace('v = Viewer(frames, room="e2e-main")',
                           f'v = Viewer(frames[:5], url="{remote.base}", token="{remote.token}")')]
    with running_notebook(browser, lab, "remote.ipynb", cells) as page:
        data = wait_rendered(page)
        assert data["zndrawLength"] == "5"
        page.wait_for_function(
            "() => document.querySelector('.zn-root').dataset.zndrawControl === 'open'")
        screenshot(page, "e2e-remote.png")


def test_missing_room_shows_an_error(browser, lab):
    cells = ["from zndraw_widget import Viewer\nViewer(room='no-such-room')"]
    with running_notebook(browser, lab, "missing.ipynb", cells) as page:
        page.wait_for_function(
            "() => document.querySelector('.zn-root')?.dataset.zndrawStatus === 'error'")
        text = page.locator(f"{VIEWER} .zn-message").text_content()
        assert "does not exist" in text
        screenshot(page, "e2e-missing-room.png")


def test_playback_draws_every_frame_in_order(browser, lab):
    """Playing a 1,000-atom trajectory draws frame after frame, none skipped (speed is
    measured by benchmarks/bench_widget.py)."""
    code = SETUP.replace('v = Viewer(frames, room="e2e-main")\nv\n', "") + (
        "grid = np.stack(np.meshgrid(*[np.arange(10)] * 3, indexing='ij'), -1).reshape(-1, 3)\n"
        "big = [ase.Atoms(numbers=np.resize([6, 8, 1, 7], 1000),"
        " positions=grid * 1.5 + 0.3 * np.sin(i / 4 + grid[:, ::-1]), cell=np.eye(3) * 15,"
        " pbc=True) for i in range(30)]\n"
        "Viewer(big, room='e2e-1k')")
    with running_notebook(browser, lab, "big.ipynb", [code]) as page:
        data = wait_rendered(page)
        assert data["zndrawAtoms"] == "1000"
        page.select_option(f"{VIEWER} select", "60")
        page.evaluate("""() => {
            const root = document.querySelector('.zn-root');
            window.drawn = [];
            new MutationObserver(() => window.drawn.push(Number(root.dataset.zndrawRendered)))
                .observe(root, { attributes: true, attributeFilter: ['data-zndraw-rendered'] });
        }""")
        page.click(f"{VIEWER} [data-role=play]")
        page.wait_for_function("() => window.drawn.length >= 40")
        page.click(f"{VIEWER} [data-role=play]")
        drawn = page.evaluate("window.drawn.slice(0, 40)")
        steps = {(b - a) % 30 for a, b in itertools.pairwise(drawn)}
        assert steps <= {0, 1} and 1 in steps, drawn  # 0: the same frame drawn again
        screenshot(page, "e2e-1k-atoms.png")


def test_quickstart_notebook_runs(browser, lab):
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", lab["dir"] / "quickstart.ipynb")
    with running_notebook(browser, lab, "quickstart.ipynb") as page:
        page.wait_for_function(
            "() => { const v = [...document.querySelectorAll('.zn-root')];"
            " return v.length === 2 && v.every(el => el.dataset.zndrawRendered !== undefined"
            " && el.dataset.zndrawLength === '80'); }")
        page.wait_for_function(
            "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
            " === 'idle'")
        errors = page.locator(".jp-OutputArea-output[data-mime-type*='error']").count()
        assert errors == 0
        # v.step = 30 from the kernel moved the first view; v.selection is highlighted
        assert page.eval_on_selector(VIEWER, "el => el.dataset.zndrawRendered") == "30"
        banner = page.locator(f"{VIEWER} .zn-banner").first.text_content()
        assert not banner, banner
        screenshot(page, "e2e-quickstart.png")


def test_big_system_draws(browser, lab):
    code = (
        "import numpy as np, ase\nfrom zndraw_widget import Viewer\n"
        "g = np.stack(np.meshgrid(*[np.arange(23)] * 3, indexing='ij'), -1).reshape(-1, 3)\n"
        "Viewer([ase.Atoms(numbers=np.resize([14, 8], len(g)), positions=g * 2.0)],"
        " room='e2e-big')")
    with running_notebook(browser, lab, "big-system.ipynb", [code]) as page:
        data = wait_rendered(page)
        assert data["zndrawAtoms"] == str(23**3)
        changed, total = foreground_pixels(page)
        assert changed > 0.05 * total
        screenshot(page, "e2e-big.png")
