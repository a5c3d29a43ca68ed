"""The widget inside JupyterLab (part of ``bench_widget.py``): step latency beside nglview,
playback beside the bare page, and the page's responsiveness while a big room plays.

One JupyterLab server (the tests' ``run_lab``) and one notebook per system. Step latency is
the wall time from ``v.step = n`` in the kernel (``time.time()`` just before it) to frame n
drawn in the page (``Date.now()`` when the viewer's ``data-zndraw-rendered`` marker reads n;
for nglview, the first WebGL draw call after ``w.frame = n``), over jumps to random frames.
nglview is measured only when it is installed (``pip install nglview``; not a dependency).
Playback figures come with Chrome's own per-frame counters (``Performance.getMetrics``:
script, layout, style recalculation, all tasks), so that the bare page and JupyterLab can
be told apart by where the time goes.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import run_lab  # noqa: E402  (the tests' JupyterLab)
from tests.e2e.viewer_page import ViewerPage  # noqa: E402
from widget_transports import SETUP, _Temp  # noqa: E402  (the notebook's systems)

Row = tuple[str, str, str, str, "bool | None"]

VIEWER = "v = Viewer(lattice({atoms}, {frames}))\nv"
NGLVIEW = "import nglview\nv = nglview.show_asetraj(lattice({atoms}, {frames}))\nv"
# the systems of issue #18: (atoms, frames)
SYSTEMS = ((1000, 200), (1000, 1000), (50_000, 10))

# Before any page script: note the first WebGL draw call after ``window.__glWatch`` is set.
GL_HOOK = """(() => {
  for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
    for (const name of ["drawArrays", "drawElements", "drawArraysInstanced", "drawElementsInstanced"]) {
      const original = proto[name];
      if (!original) continue;
      proto[name] = function (...args) {
        const watch = window.__glWatch;
        if (watch && !watch.t) watch.t = Date.now();
        return original.apply(this, args);
      };
    }
  }
  window.__glWatch = { t: 0 }; // the first draw of the page
})();"""

# JS: jump to each of ``targets`` from the kernel; per jump the kernel's wall time of the
# assignment and the page's wall time of the draw, and (zndraw) when the step reached the
# page and when its frame's read began and ended.
JUMPS = """async ([targets, zndraw]) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const root = document.querySelector(".zn-root");
  const wall = () => performance.timeOrigin + performance.now();
  const out = [];
  for (const n of targets) {
    let arrived = 0;
    window.__glWatch = { t: 0 };
    const drawn = new Promise((resolve) => {
      if (zndraw) {
        const model = root.parentElement.zndraw.model.model;
        const onStep = () => { if (!arrived) arrived = wall(); };
        model.on("change:step", onStep);
        const observer = new MutationObserver(() => {
          if (root.dataset.zndrawRendered === String(n)) {
            const t = wall(); observer.disconnect(); model.off("change:step", onStep); resolve(t);
          }
        });
        observer.observe(root, { attributes: true, attributeFilter: ["data-zndraw-rendered"] });
      } else {
        const poll = () => (window.__glWatch.t ? resolve(window.__glWatch.t) : requestAnimationFrame(poll));
        poll();
      }
    });
    performance.clearResourceTimings();
    const reply = await kernel.requestExecute({
      code: `import time as _t; _t0 = _t.time(); ${zndraw ? "v.step" : "v.frame"} = ${n}`,
      silent: false, store_history: false, user_expressions: { t0: "_t0" },
    }).done;
    const t = await drawn;
    const t0 = 1000 * Number(reply.content.user_expressions.t0.data["text/plain"]);
    const read = performance.getEntriesByType("resource").find((e) => e.name.includes("/frames?"));
    out.push({ total: t - t0, gl: window.__glWatch.t - t0, comm: arrived ? arrived - t0 : null,
               read: read ? read.responseEnd - read.startTime : null,
               readStart: read ? performance.timeOrigin + read.startTime - t0 : null,
               readEnd: read ? performance.timeOrigin + read.responseEnd - t0 : null,
               bytes: read ? read.encodedBodySize : null });
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the draw's frame settle
  }
  return out;
}"""

# JS: the first viewer's background reads are done: a small room read whole (a bundle
# without that preload, or a room too big for it, has none to wait for).
SETTLED = """() => {
  const store = document.querySelector(".zn-root").parentElement.zndraw.store;
  if (!store || typeof store.small !== "function" || !store.small()) return true;
  for (let i = 0; i < store.length; i++) if (!store.has(i)) return false;
  return true;
}"""

# JS: play the first viewer for ``frames`` drawn frames at the fastest setting.
PLAY = """async (frames) => {
  const root = document.querySelector(".zn-root");
  const renderer = root.parentElement.zndraw.renderer;
  const select = root.querySelector(".zn-bar select");
  select.value = "60";
  select.dispatchEvent(new Event("change"));
  const draws = [];
  const render = renderer.renderNow;
  renderer.renderNow = function () { const t = performance.now(); render.call(this); draws.push(performance.now() - t); };
  const drawn = [];
  const observer = new MutationObserver(() => drawn.push(performance.now()));
  observer.observe(root, { attributes: true, attributeFilter: ["data-zndraw-rendered"] });
  const t0 = performance.now();
  root.querySelector("[data-role=play]").click();
  await new Promise((resolve) => {
    const check = () => (drawn.length >= frames ? resolve() : setTimeout(check, 20));
    check();
  });
  root.querySelector("[data-role=play]").click();
  observer.disconnect();
  renderer.renderNow = render;
  const canvas = renderer.canvas;
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { fps: frames / ((drawn[frames - 1] - t0) / 1000), draw: median(draws),
           pixels: `${canvas.width}x${canvas.height}` };
}"""

# JS: while the first viewer plays, the delay of ``probes`` key presses (event creation to
# handler) and the round trip of a cell-like execute request to the kernel.
RESPONSIVE = """async (probes) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const delays = [], executes = [];
  const onKey = (event) => delays.push(performance.now() - event.timeStamp);
  window.addEventListener("keydown", onKey, true);
  window.__probe = async () => {
    const t = performance.now();
    await kernel.requestExecute({ code: "1", silent: true, store_history: false }).done;
    executes.push(performance.now() - t);
  };
  window.__probeResult = () => {
    window.removeEventListener("keydown", onKey, true);
    return { delays, executes };
  };
}"""


def play(page: Any, frames: int) -> dict[str, Any]:
    """Play the page's first viewer for ``frames`` drawn frames at the fastest setting:
    frames/s, median draw ms, canvas size, and Chrome's script, layout, style and task ms
    per drawn frame over the stretch."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def counters() -> dict[str, float]:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    before = counters()
    result = page.evaluate(PLAY, frames)
    after = counters()
    cdp.detach()
    for name in ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration"):
        result[name] = 1000 * (after[name] - before[name]) / frames
    result["LayoutCount"] = (after["LayoutCount"] - before["LayoutCount"]) / frames
    return result


def _open(lab: Any, browser: Any, name: str, cells: list[str]) -> ViewerPage:
    lab.write_notebook(f"{name}.ipynb", cells)
    page = lab.open(browser, f"{name}.ipynb")
    page.page.add_init_script(GL_HOOK)
    page.page.reload()
    page.wait_kernel_idle()
    page.run_all_cells()
    return page


def step_latency(lab: Any, browser: Any, atoms: int, frames: int, jumps: int,
                 nglview: bool) -> dict[str, float]:
    """Median ms from the kernel's assignment to the frame drawn, over ``jumps`` random
    frames (the same for both viewers); zndraw's also split into comm, read and the rest."""
    import random

    rng = random.Random(atoms + frames)
    targets, last = [], 0
    while len(targets) < jumps:
        n = rng.randrange(frames)
        if n != last:
            targets.append(n)
            last = n
    result: dict[str, float] = {}
    page = _open(lab, browser, f"z{atoms}x{frames}",
                 [SETUP, VIEWER.format(atoms=atoms, frames=frames)])
    try:
        page.wait_until("m => m.rendered === '0'")
        page.page.wait_for_function(SETTLED, timeout=30_000)  # as nglview's loading, below
        out = page.page.evaluate(JUMPS, [targets, True])
    finally:
        page.close()
    for key in ("total", "gl", "comm", "readStart", "readEnd", "read", "bytes"):
        values = [o[key] for o in out if o[key] is not None]
        result[key] = statistics.median(values) if values else float("nan")
    if nglview:
        page = _open(lab, browser, f"n{atoms}x{frames}",
                     [SETUP, NGLVIEW.format(atoms=atoms, frames=frames)])
        try:
            page.page.wait_for_function("window.__glWatch.t > 0")  # the first frame drawn
            page.page.wait_for_timeout(2000)  # let loading finish (a benchmark, not a test)
            out = page.page.evaluate(JUMPS, [targets, False])
        finally:
            page.close()
        result["nglview"] = statistics.median(o["gl"] for o in out)
    return result


def responsiveness(lab: Any, browser: Any, atoms: int, probes: int) -> dict[str, float]:
    """Key-press delay and execute round trip (medians and maxima, ms), idle and while a
    room of ``atoms`` atoms plays at the fastest setting; frames/s meanwhile."""
    page = _open(lab, browser, f"busy{atoms}", [SETUP, VIEWER.format(atoms=atoms, frames=10)])
    result: dict[str, float] = {}
    try:
        page.wait_until("m => m.rendered === '0'")
        p = page.page
        p.click(".jp-Notebook")  # focus somewhere harmless for the key presses
        for state in ("idle", "playing"):
            if state == "playing":
                p.select_option(".zn-root .zn-bar select", "60")
                draws0 = int(page.marker("draws") or 0)
                t0 = p.evaluate("performance.now()")
                p.click(".zn-root [data-role=play]")
            p.evaluate(RESPONSIVE, probes)
            for _ in range(probes):
                p.keyboard.press("Shift")
                p.evaluate("window.__probe()")
                p.wait_for_timeout(300)  # pacing between probes (a benchmark, not a test)
            probe = p.evaluate("window.__probeResult()")
            if state == "playing":
                elapsed = (p.evaluate("performance.now()") - t0) / 1000
                result["fps"] = (int(page.marker("draws") or 0) - draws0) / elapsed
                p.click(".zn-root [data-role=play]")
            for key in ("delays", "executes"):
                values = sorted(probe[key])
                result[f"{state}.{key}.median"] = statistics.median(values)
                result[f"{state}.{key}.max"] = values[-1]
    finally:
        page.close()
    return result


def rows(browser: Any, bare: dict[str, Any], play_frames: int, quick: bool) -> list[Row]:
    """bench_widget's rows: step latency beside nglview, playback beside the bare page
    (``bare``: ``play`` on it in the same run), responsiveness while a big room plays."""
    nglview = importlib.util.find_spec("nglview") is not None
    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="zndraw-bench-lab-") as root, \
            run_lab(_Temp(root)) as lab:
        for atoms, frames in SYSTEMS:
            print(f"step latency, {frames} x {atoms} atoms ...", file=sys.stderr, flush=True)
            s = step_latency(lab, browser, atoms, frames, 8 if quick else 20, nglview)
            name = f"JupyterLab: step, {frames:,} x {atoms:,} atoms"
            value = f"{s['gl']:.0f} ms ({s['total']:.0f} drawn)"
            if nglview:
                ratio = s["gl"] / s["nglview"]
                out.append((name, value, f"nglview {s['nglview']:.0f} ms", f"{ratio:.2f}",
                            ratio <= 0.5))
            else:
                out.append((name, value, "nglview not installed (pip install nglview): "
                            "no comparison", "", None))
            out.append(("  step in page / read start / read end", f"{s['comm']:.0f}/"
                        f"{s['readStart']:.0f}/{s['readEnd']:.0f} ms", f"read of "
                        f"{s['bytes'] / 1024:.0f} KiB takes {s['read']:.0f} ms", "", None))

        print("playback in JupyterLab ...", file=sys.stderr, flush=True)
        page = _open(lab, browser, "play", [SETUP, VIEWER.format(atoms=1000, frames=play_frames)])
        try:
            page.wait_until("m => m.rendered === '0'")
            inlab = play(page.page, play_frames)
        finally:
            page.close()
        ratio = inlab["fps"] / bare["fps"]
        out.append((f"JupyterLab: playback, 1,000 atoms x {play_frames}",
                    f"{inlab['fps']:.1f} frames/s", f"bare page {bare['fps']:.1f} frames/s",
                    f"{ratio:.2f}", ratio >= 0.8))
        for label, which in (("  bare page", bare), ("  JupyterLab", inlab)):
            out.append((label + " per frame: draw", f"{which['draw']:.1f} ms, {which['pixels']}",
                        f"script {which['ScriptDuration']:.1f}, layout "
                        f"{which['LayoutDuration']:.1f} ({which['LayoutCount']:.1f}x), style "
                        f"{which['RecalcStyleDuration']:.1f}, tasks {which['TaskDuration']:.1f} ms",
                        "", None))

        print("responsiveness while 50,000 atoms play ...", file=sys.stderr, flush=True)
        r = responsiveness(lab, browser, 50_000, 5 if quick else 10)
        out.append(("JupyterLab: key delay, 50,000 atoms playing",
                    f"{r['playing.delays.median']:.0f} ms (max {r['playing.delays.max']:.0f})",
                    f"idle {r['idle.delays.median']:.0f} ms (max {r['idle.delays.max']:.0f})",
                    "", None))
        out.append(("  execute round trip, playing", f"{r['playing.executes.median']:.0f} ms "
                    f"(max {r['playing.executes.max']:.0f})",
                    f"idle {r['idle.executes.median']:.0f} ms; playing at {r['fps']:.2f} frames/s",
                    "", None))
    return out
