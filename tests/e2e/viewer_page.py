"""``ViewerPage``: one browser page showing the viewer, and everything the tests read of it.

The viewer reports its state in ``data-zndraw-<name>`` attributes on its root element (the
names of ``js/markers.ts``: ``rendered``, ``length``, ``atoms``, ``status``, ``control``,
``playing``, ``locked``, ``edited``, ``present``, ...). Tests read them only through this
class, by ``<name>``, and wait on them instead of sleeping.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 60_000
VIEWER = ".zn-root"
MARKER_PREFIX = "data-zndraw-"

# JS: the markers of one viewer root as {name: value}.
_MARKERS = f"""el => Object.fromEntries(el.getAttributeNames()
    .filter(n => n.startsWith('{MARKER_PREFIX}'))
    .map(n => [n.slice({len(MARKER_PREFIX)}), el.getAttribute(n)]))"""
# JS: the viewer object the widget hangs on its root's parent (renderer, control client).
_VIEWER_OBJECT = f"document.querySelector('{VIEWER}').parentElement.zndraw"
# JS: the colour (r, g, b) of the top-left pixel of a canvas.
_CORNER_PIXEL = """canvas => {
    const c = document.createElement('canvas'); c.width = 4; c.height = 4;
    const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0, 4, 4, 0, 0, 4, 4);
    return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
}"""
# JS: every pixel of a canvas as RGBA bytes.
_PIXELS = """canvas => {
    const c = document.createElement('canvas');
    c.width = canvas.width; c.height = canvas.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    return ctx.getImageData(0, 0, c.width, c.height).data;
}"""


class ViewerPage:
    """A Playwright page with (at least) one viewer; methods act on the first one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.first_render: dict[str, str] | None = None  # markers when first seen drawn
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def close(self) -> None:
        self.page.context.close()

    # -- markers ---------------------------------------------------------------------------
    def markers(self) -> dict[str, str]:
        """The viewer's ``data-zndraw-*`` attributes, by name (``{"rendered": "0", ...}``)."""
        return self.page.eval_on_selector(VIEWER, _MARKERS)

    def marker(self, name: str) -> str | None:
        return self.markers().get(name)

    def wait_until(self, condition: str, arg: Any = None) -> None:
        """Wait until the JS ``condition(markers, arg)`` holds for the first viewer."""
        self.page.wait_for_function(
            f"""(arg) => {{ const el = document.querySelector('{VIEWER}');
                return el !== null && ({condition})(({_MARKERS})(el), arg); }}""", arg=arg)

    def wait_marker(self, name: str, value: str) -> None:
        """Wait until marker ``name`` reads ``value``."""
        self.wait_until("(m, a) => m[a.name] === a.value", {"name": name, "value": value})

    def wait_all(self, count: int, condition: str, arg: Any = None) -> None:
        """Wait until there are ``count`` viewers and ``condition(markers, arg)`` holds for each."""
        self.page.wait_for_function(
            f"""(arg) => {{ const els = [...document.querySelectorAll('{VIEWER}')];
                return els.length === arg.count
                    && els.every(el => ({condition})(({_MARKERS})(el), arg.arg)); }}""",
            arg={"count": count, "arg": arg})

    def wait_rendered(self, frame: int | None = None) -> dict[str, str]:
        """Wait until the viewer has drawn (``frame``, if given); return its markers.
        Fails at once, with the viewer's message, if it shows an error."""
        try:
            self.wait_until("(m, frame) => m.status === 'error' || (frame === null"
                            " ? m.rendered !== undefined : m.rendered === String(frame))", frame)
        except Exception:
            self.diagnose(f"waiting for frame {frame}")
            raise
        markers = self.markers()
        assert markers.get("status") != "error", {**markers, "message": self.text("message")}
        if self.first_render is None:
            self.first_render = markers
        return markers

    def record(self, name: str) -> None:
        """From now on, note each new value of marker ``name`` with the banner's text then."""
        self.page.evaluate("""([selector, attribute, key]) => {
            const root = document.querySelector(selector);
            const seen = (window.__zndrawRecorded ??= {})[key] = [];
            new MutationObserver(() => seen.push({value: root.getAttribute(attribute),
                banner: root.querySelector('.zn-banner')?.textContent ?? ''}))
                .observe(root, {attributes: true, attributeFilter: [attribute]});
        }""", [VIEWER, MARKER_PREFIX + name, name])

    def recorded(self, name: str) -> list[dict[str, str]]:
        """The ``{"value", "banner"}`` noted since ``record(name)``."""
        return self.page.evaluate("(key) => window.__zndrawRecorded[key]", name)

    def wait_recorded(self, name: str, count: int) -> list[dict[str, str]]:
        """Wait until ``record(name)`` has noted ``count`` values; return them."""
        self.page.wait_for_function("(a) => window.__zndrawRecorded[a.name].length >= a.count",
                                    arg={"name": name, "count": count})
        return self.recorded(name)

    def wait_recorded_value(self, name: str, value: str) -> None:
        """Wait until ``record(name)`` has noted marker ``name`` reading ``value``."""
        self.page.wait_for_function(
            "(a) => window.__zndrawRecorded[a.name].some(s => s.value === a.value)",
            arg={"name": name, "value": value})

    # -- the viewer's own elements -----------------------------------------------------------
    def text(self, part: str) -> str:
        """Text of the viewer's ``.zn-<part>`` element (``status``, ``message``, ``banner``)."""
        return self.page.locator(f"{VIEWER} .zn-{part}").first.text_content() or ""

    def click(self, role: str) -> None:
        """Click the viewer's control ``[data-role=<role>]`` (``play``, ``screenshot``, ...)."""
        self.page.click(f"{VIEWER} [data-role={role}]")

    def open_view_menu(self) -> Locator:
        """Open the toolbar's View menu (representation, labels, Orthographic, Reset camera,
        Movie) unless it is open; return its panel. Escape or a click outside closes it."""
        button = self.page.locator(f"{VIEWER} [data-role=view]")
        if button.get_attribute("aria-expanded") != "true":
            button.click()
        panel = self.page.locator(f"{VIEWER} [data-role=view-menu]")
        panel.wait_for(state="visible")
        return panel

    def close_view_menu(self) -> None:
        """Close the View menu (Escape) if it is open."""
        if self.page.locator(f"{VIEWER} [data-role=view]").get_attribute("aria-expanded") == "true":
            self.page.keyboard.press("Escape")
            self.page.locator(f"{VIEWER} [data-role=view-menu]").wait_for(state="hidden")

    def toolbar_boxes(self) -> list[dict[str, Any]]:
        """The toolbar's visible controls (not the View menu's panel) as ``{"name", "top",
        "bottom", "right"}`` in page pixels, ``name`` their data-role or aria-label."""
        return self.page.eval_on_selector(f"{VIEWER} .zn-bar", """bar => [...bar.children]
            .filter(el => el.getClientRects().length && !el.classList.contains('zn-popover'))
            .map(el => { const r = el.getBoundingClientRect();
                return {name: el.dataset.role || el.getAttribute('aria-label') || el.className,
                        top: r.top, bottom: r.bottom, right: r.right}; })""")

    def toolbar_rows(self) -> list[list[str]]:
        """The toolbar's controls by row, top to bottom: a control is on a row when its box
        starts above the bottom of every box already on it."""
        rows: list[list[dict[str, Any]]] = []
        for box in sorted(self.toolbar_boxes(), key=lambda b: b["top"]):
            if rows and box["top"] < min(b["bottom"] for b in rows[-1]):
                rows[-1].append(box)
            else:
                rows.append([box])
        return [[b["name"] for b in row] for row in rows]

    def set_viewer_width(self, width: int) -> None:
        """Resize the page so that the viewer is ``width`` pixels wide."""
        now = self.page.eval_on_selector(VIEWER, "el => el.getBoundingClientRect().width")
        size = self.page.viewport_size
        self.page.set_viewport_size({"width": size["width"] + round(width - now),
                                     "height": size["height"]})
        self.page.wait_for_function(f"""(width) => Math.round(document.querySelector('{VIEWER}')
            .getBoundingClientRect().width) === width""", arg=width)

    def control_text(self, role: str) -> str:
        return self.page.locator(f"{VIEWER} [data-role={role}]").text_content() or ""

    def play(self) -> None:
        """Start playback (the play button); ``pause`` stops it."""
        self.click("play")

    def pause(self) -> None:
        self.click("play")
        self.wait_marker("playing", "false")

    def set_speed(self, fps: str) -> None:
        self.page.select_option(f"{VIEWER} .zn-bar select", fps)

    def press(self, key: str) -> None:
        """Focus the viewer and press ``key`` (Home, End, ArrowLeft, Escape, ...)."""
        self.page.locator(VIEWER).focus()
        self.page.keyboard.press(key)

    # -- the scene ----------------------------------------------------------------------------
    def nearest_atom(self) -> int | None:
        """The atom nearest the camera among those whose centre shows on the canvas (not
        under the viewer's bars), so that a click there hits it; None if there is none."""
        self.page.locator(f"{VIEWER} canvas").scroll_into_view_if_needed()
        return self.page.evaluate(f"""() => {{
            const r = {_VIEWER_OBJECT}.renderer;
            const p = r.positions, c = r.camera.position;
            const rect = r.canvas.getBoundingClientRect();
            let best = null, bestD = Infinity;
            for (let i = 0; i < p.length / 3; i++) {{
                const v = c.clone().set(p[3*i], p[3*i+1], p[3*i+2]).project(r.camera);
                const x = rect.left + (v.x + 1) / 2 * rect.width;
                const y = rect.top + (1 - v.y) / 2 * rect.height;
                if (document.elementFromPoint(x, y) !== r.canvas) continue;
                const d = (p[3*i]-c.x)**2 + (p[3*i+1]-c.y)**2 + (p[3*i+2]-c.z)**2;
                if (d < bestD) {{ bestD = d; best = i; }}
            }}
            return best;
        }}""")

    def atom_on_screen(self, atom: int) -> dict[str, float]:
        """Page coordinates ``{"x", "y"}`` of an atom's centre (from the viewer's camera)."""
        return self.page.evaluate(f"""(atom) => {{
            const r = {_VIEWER_OBJECT}.renderer, p = r.positions;
            const v = r.camera.position.clone().set(p[3*atom], p[3*atom+1], p[3*atom+2])
                .project(r.camera);
            const rect = r.canvas.getBoundingClientRect();
            return {{x: rect.left + (v.x + 1) / 2 * rect.width,
                     y: rect.top + (1 - v.y) / 2 * rect.height}};
        }}""", atom)

    def viewer_evaluate(self, script: str, arg: Any = None) -> Any:
        """``script`` (a JS function of the first viewer object and ``arg``) run in the page."""
        return self.page.evaluate(f"(arg) => ({script})({_VIEWER_OBJECT}, arg)", arg)

    def selection(self) -> list[int]:
        """The viewer's own selection (its widget's ``selection`` trait)."""
        return self.page.evaluate(f"() => {_VIEWER_OBJECT}.model.model.get('selection')")

    def drawn_positions(self) -> list[float]:
        """The positions the viewer draws (x, y, z of each atom in turn)."""
        return self.page.evaluate(f"() => Array.from({_VIEWER_OBJECT}.renderer.positions)")

    def wait_drawn_atom(self, atom: int, position: list[float], tolerance: float = 1e-3) -> None:
        """Wait until the viewer draws ``atom`` at ``position``."""
        self.page.wait_for_function(f"""(a) => {{
            const p = {_VIEWER_OBJECT}.renderer.positions;
            return p.length > 3 * a.atom && [0, 1, 2].every(
                k => Math.abs(p[3 * a.atom + k] - a.position[k]) < a.tolerance);
        }}""", arg={"atom": atom, "position": position, "tolerance": tolerance})

    def drag(self, point: dict[str, float], dx: float, dy: float, hold: str | None = None) -> None:
        """Press at ``point``, move by (dx, dy) in steps and release, with key ``hold``
        (``Alt``, ...) held if given."""
        mouse, keyboard = self.page.mouse, self.page.keyboard
        mouse.move(point["x"], point["y"])
        if hold:
            keyboard.down(hold)
        mouse.down()
        mouse.move(point["x"] + dx, point["y"] + dy, steps=6)
        mouse.up()
        if hold:
            keyboard.up(hold)

    def drop_control_socket(self) -> None:
        """Close the control websocket as a network failure would."""
        self.page.evaluate(f"() => {_VIEWER_OBJECT}.control.socket.close()")

    # -- pixels -------------------------------------------------------------------------------
    def foreground_pixels(self) -> tuple[int, int]:
        """(pixels differing from the background, all pixels) of the viewer's canvas."""
        return tuple(self.page.eval_on_selector(f"{VIEWER} canvas", f"""canvas => {{
            const d = ({_PIXELS})(canvas), bg = [d[0], d[1], d[2]];
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {{
                if (Math.abs(d[i] - bg[0]) + Math.abs(d[i+1] - bg[1])
                    + Math.abs(d[i+2] - bg[2]) > 30) n++;
            }}
            return [n, d.length / 4];
        }}"""))

    def green_pixels(self) -> int:
        """How many pixels of the canvas are clearly green."""
        return self.page.eval_on_selector(f"{VIEWER} canvas", f"""canvas => {{
            const d = ({_PIXELS})(canvas);
            let n = 0;
            for (let i = 0; i < d.length; i += 4)
                if (d[i + 1] > 120 && d[i] < 90 && d[i + 2] < 90) n++;
            return n;
        }}""")

    def background(self) -> list[int]:
        """(r, g, b) of the canvas' corner, where no atom is drawn."""
        return self.page.eval_on_selector(f"{VIEWER} canvas", _CORNER_PIXEL)

    def wait_background(self, shade: str) -> None:
        """Wait until the background is ``"light"`` (near white) or ``"dark"``."""
        test = "s > 600" if shade == "light" else "s < 150"
        self.page.wait_for_function(f"""() => {{
            const canvas = document.querySelector('{VIEWER} canvas');
            const s = ({_CORNER_PIXEL})(canvas).reduce((a, b) => a + b, 0);
            return {test};
        }}""")

    def screenshot(self, name: str) -> Path:
        """Save the viewer's picture as ``test-artifacts/<name>``."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.locator(VIEWER).first.screenshot(path=str(path))
        return path

    # -- files in and out -------------------------------------------------------------------
    def drop_file(self, name: str, text: str) -> None:
        """Drop a file ``name`` holding ``text`` on the view, as a person dragging it from
        their desktop does (a DataTransfer built in the page)."""
        self.page.evaluate("""([selector, name, text]) => {
            const view = document.querySelector(selector + ' .zn-view');
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name));
            for (const type of ['dragenter', 'dragover', 'drop']) {
                view.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
            }
        }""", [VIEWER, name, text])

    def download(self, target: Path, scope: str, fmt: str, index: str | None = None) -> Path:
        """Download frames (``scope``: frame, frames with ``index``, or room) in ``fmt``
        with the download form; the file saved at ``target``."""
        form = self.page.locator(f"{VIEWER} [data-role=export-form]")
        if not form.is_visible():
            self.click("download")
        form.locator("[data-role=export-scope]").select_option(scope)
        if index is not None:
            form.locator("[data-role=export-index]").fill(index)
        form.locator("[data-role=export-format]").select_option(fmt)
        with self.page.expect_download() as info:
            form.locator("[data-role=export-go]").click()
        info.value.save_as(target)
        return target

    # -- in a notebook ----------------------------------------------------------------------
    def wait_kernel_idle(self) -> None:
        self.page.wait_for_function(
            "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status"
            " === 'idle'")

    def run_all_cells(self) -> None:
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def kernel_execute(self, code: str) -> None:
        """Run ``code`` in the notebook's kernel (as a cell would) and wait until it is done;
        fail with the traceback if it raised."""
        result = self.page.evaluate(
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

    def kernel_until(self, expression: str, timeout: float = 30) -> None:
        """Evaluate ``expression`` in the kernel, one request after another, until it is true.

        Widget updates from the page reach the kernel between requests (ipywidgets may hold
        an update back until its previous one is acknowledged), so a value the page just set
        is awaited this way rather than asserted at once."""
        result = self.page.evaluate(
            """async ([expression, timeout]) => {
                const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                const deadline = Date.now() + timeout * 1000;
                let last = null;
                while (Date.now() < deadline) {
                    const reply = await kernel.requestExecute(
                        {code: '', silent: true, store_history: false,
                         user_expressions: {ok: `bool(${expression})`, value: expression}}).done;
                    const answers = reply.content.user_expressions;
                    last = answers.value?.data?.['text/plain'] ?? answers.value?.evalue;
                    if (answers.ok?.data?.['text/plain'] === 'True') return {ok: true, last};
                }
                return {ok: false, last};
            }""", [expression, timeout])
        assert result["ok"], f"{expression} still false after {timeout} s (last: {result['last']})"

    def error_outputs(self) -> int:
        """How many cell outputs are errors."""
        return self.page.locator(".jp-OutputArea-output[data-mime-type*='error']").count()

    def diagnose(self, what: str) -> None:
        """Save what the page shows and print what the viewers and the notebook say."""
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / "e2e-failure.png"))
        state = self.page.evaluate(f"""() => ({{
            viewers: [...document.querySelectorAll('{VIEWER}')].map(el => ({{...({_MARKERS})(el),
                message: el.querySelector('.zn-message')?.textContent,
                banner: el.querySelector('.zn-banner')?.textContent}})),
            outputs: [...document.querySelectorAll('.jp-OutputArea-output')]
                .map(o => o.innerText.slice(0, 2000)),
            kernel: window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status,
        }})""")
        print(f"while {what}: {json.dumps(state, indent=1)}\npage errors: {self.errors}")
