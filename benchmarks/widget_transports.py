"""The widget's two transports side by side in JupyterLab (part of ``bench_widget.py``).

Two JupyterLab servers: one with the zndraw extension (the view reads over HTTP and the
control websocket) and one with it disabled (the kernel keeps the room and the view reads
through the widget's comm). The same notebook in each: 1,000 atoms x N frames and one frame
of 100,000 atoms; figures from the viewer's markers (first draw) and a played stretch.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import run_lab  # noqa: E402  (the tests' JupyterLab)

DISABLED = {"ServerApp": {"jpserver_extensions": {"zndraw_widget": False}}}

SETUP = """\
import numpy as np, ase
from zndraw_widget import Viewer
def lattice(atoms, frames, seed=0):
    rng = np.random.default_rng(seed)
    side = int(np.ceil(atoms ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    base = grid[:atoms] * 1.6
    numbers = np.array([6, 8, 1, 1])[np.arange(atoms) % 4]
    return [ase.Atoms(numbers=numbers, positions=base + rng.normal(0, 0.05, base.shape))
            for _ in range(frames)]"""
# One notebook per system, the viewer in the last cell: the kernel is idle when the view
# starts reading (over the comm it answers between cells only).
NOTEBOOKS = {"k1": [SETUP, "Viewer(lattice(1000, __FRAMES__))"],
             "k100": [SETUP, "Viewer(lattice(100_000, 1))"]}

# JS: play the first viewer for ``frames`` drawn frames at the fastest setting; frames/s.
PLAY = """async (frames) => {
  const root = document.querySelector(".zn-root");
  root.querySelector(".zn-bar select").value = "60";
  root.querySelector(".zn-bar select").dispatchEvent(new Event("change"));
  const drawn = [];
  const observer = new MutationObserver(() => drawn.push(performance.now()));
  observer.observe(root, { attributes: true, attributeFilter: ["data-zndraw-rendered"] });
  const t0 = performance.now();
  root.querySelector("[data-role=play]").click();
  while (drawn.length < frames) await new Promise((resolve) => setTimeout(resolve, 50));
  root.querySelector("[data-role=play]").click();
  observer.disconnect();
  return frames / ((drawn[frames - 1] - t0) / 1000);
}"""


class _Temp:
    """The ``tmp_path_factory`` ``run_lab`` wants, over one temporary directory."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def mktemp(self, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=name, dir=self.root))
        return path


def measure(browser: Any, frames: int, repeats: int, disabled: bool) -> dict[str, Any]:
    """First draws (1,000 and 100,000 atoms; medians of ``repeats`` page loads) and playback
    frames/s in one JupyterLab; which transport the views used."""
    with tempfile.TemporaryDirectory(prefix="zndraw-bench-lab-") as root, \
            run_lab(_Temp(root), DISABLED if disabled else None) as lab:
        for name, cells in NOTEBOOKS.items():
            lab.write_notebook(f"{name}.ipynb", [c.replace("__FRAMES__", str(frames))
                                                 for c in cells])
        first: dict[str, list[float]] = {"k1": [], "k100": []}
        fps, transport = 0.0, ""
        for attempt in range(repeats):
            for name in NOTEBOOKS:
                page = lab.open(browser, f"{name}.ipynb")
                try:
                    page.run_all_cells()
                    page.wait_until("m => m.rendered !== undefined")
                    markers = page.markers()
                    first[name].append(float(markers["first-draw-ms"]))
                    transport = markers["transport"]
                    if name == "k1" and attempt == 0:
                        fps = page.page.evaluate(PLAY, min(frames, 1000))
                finally:
                    page.close()
        return {"transport": transport, "fps": fps,
                **{name: statistics.median(times) for name, times in first.items()}}


def rows(browser: Any, frames: int, repeats: int) -> list[tuple[str, str, str, str, bool | None]]:
    """bench_widget's rows: each figure over the comm beside the same over HTTP."""
    http = measure(browser, frames, repeats, disabled=False)
    comm = measure(browser, frames, repeats, disabled=True)
    assert (http["transport"], comm["transport"]) == ("http", "comm"), (http, comm)
    ratio = comm["fps"] / http["fps"]
    return [
        ("JupyterLab: first frame, 1,000 atoms, comm", f"{comm['k1']:.0f} ms",
         f"over HTTP {http['k1']:.0f} ms", f"{comm['k1'] / http['k1']:.1f}x", None),
        (f"  playback, 1,000 atoms x {frames}, comm", f"{comm['fps']:.1f} frames/s",
         f"over HTTP {http['fps']:.1f} frames/s", f"{ratio:.2f}", ratio >= 0.8),
        ("  first frame, 100,000 atoms, comm", f"{comm['k100']:.0f} ms",
         f"over HTTP {http['k100']:.0f} ms", f"{comm['k100'] / http['k100']:.1f}x", None),
    ]
