"""What a chemist checks first, in the notebook's viewer: measurements equal numpy's (and
follow playback), the repeated cell shows n x m x l images, atoms take the colours of a
property, force arrows are drawn, hovering an atom shows its values; and on the standalone
page, the analysis panel colours by a property."""

from __future__ import annotations

import numpy as np
import pytest

from .viewer_page import VIEWER, ViewerPage

# Frames with an energy, forces, charges and a periodic cell: 8 atoms in a 6 Å cube, the
# charges rising along x (atom 0 lowest, atom 7 highest), forces along +x.
SETUP = """\
import numpy as np, ase
from ase.calculators.singlepoint import SinglePointCalculator
from zndraw_widget import Viewer

def crystal(i):
    rng = np.random.default_rng(i)
    grid = np.stack(np.meshgrid(*[np.arange(2)] * 3, indexing="ij"), -1).reshape(-1, 3)
    positions = grid * 3.0 + 1.5 + rng.normal(0, 0.1, (8, 3))
    atoms = ase.Atoms("Si8", positions=positions, cell=np.eye(3) * 6.0, pbc=True)
    charges = positions[:, 0] + 0.01 * np.arange(8)
    forces = np.tile([[1.0, 0.0, 0.0]], (8, 1)) * (1 + 0.1 * i)
    atoms.calc = SinglePointCalculator(atoms, energy=-10.0 - i, forces=forces, charges=charges)
    return atoms

frames = [crystal(i) for i in range(12)]
v = Viewer(frames, room="e2e-analysis")
v
"""

# JS: the analysis part of the first viewer.
_VIEWER = f"document.querySelector('{VIEWER}').parentElement.zndraw"
# JS: how many separate blobs of clearly green pixels the canvas shows (4-connected, on a
# 4x downsampled mask).
_GREEN_BLOBS = """canvas => {
    const c = document.createElement('canvas'); c.width = canvas.width; c.height = canvas.height;
    const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const w = Math.floor(c.width / 4), h = Math.floor(c.height / 4);
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const i = ((4 * y) * c.width + 4 * x) * 4;
        mask[y * w + x] = d[i + 1] > 120 && d[i] < 90 && d[i + 2] < 90 ? 1 : 0;
    }
    let blobs = 0;
    for (let s = 0; s < w * h; s++) {
        if (mask[s] !== 1) continue;
        blobs++;
        const stack = [s]; mask[s] = 2;
        while (stack.length) {
            const p = stack.pop(), x = p % w, y = (p - x) / w;
            for (const [nx, ny] of [[x+1,y],[x-1,y],[x,y+1],[x,y-1]]) {
                if (nx < 0 || ny < 0 || nx >= w || ny >= h || mask[ny * w + nx] !== 1) continue;
                mask[ny * w + nx] = 2; stack.push(ny * w + nx);
            }
        }
    }
    return blobs;
}"""


@pytest.fixture(scope="module")
def analysis(browser, lab):
    lab.write_notebook("analysis.ipynb", [SETUP])
    page = lab.open(browser, "analysis.ipynb")
    page.run_all_cells()
    page.wait_rendered(frame=0)
    yield page
    page.close()


def atom_pixel(page: ViewerPage, atom: int) -> list[int]:
    """(r, g, b) of the canvas at an atom's centre."""
    point = page.atom_on_screen(atom)
    return page.page.evaluate("""([x, y]) => {
        const canvas = document.elementFromPoint(x, y), rect = canvas.getBoundingClientRect();
        const c = document.createElement('canvas'); c.width = canvas.width; c.height = canvas.height;
        const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0);
        const s = canvas.width / rect.width;
        return Array.from(ctx.getImageData(Math.round((x - rect.left) * s),
                                           Math.round((y - rect.top) * s), 1, 1).data.slice(0, 3));
    }""", [point["x"], point["y"]])


def test_a_measured_distance_equals_numpys_and_follows_playback(analysis):
    page = analysis
    page.kernel_execute("v.selection = [0, 7]")
    page.page.wait_for_selector(f"{VIEWER} .zn-panel li[data-kind=distance]", state="attached")
    shown = page.page.locator(f"{VIEWER} .zn-panel li").first.get_attribute("data-value")
    page.kernel_execute(
        f"d = np.linalg.norm(frames[v.step].positions[7] - frames[v.step].positions[0])\n"
        f"assert abs(d - {shown}) < 1e-9, (d, {shown})\n"
        "m = v.measurements[-1]\n"
        "assert m['atoms'] == [0, 7] and m['kind'] == 'distance' and m['selection'], m\n"
        "assert abs(m['value'] - d) < 1e-9, (m, d)")
    # a label over the view says it
    assert "Å" in page.page.locator(f"{VIEWER} .zn-label").first.text_content()
    # kept (m), then an angle from Python; both follow playback
    page.press("m")
    page.kernel_execute("v.selection = []")
    page.kernel_execute("v.measurements = [{'atoms': [0, 7]}, {'atoms': [0, 1, 2]}]")
    page.wait_until("(m) => true")
    page.page.wait_for_function(
        f"() => document.querySelectorAll('{VIEWER} .zn-panel li').length === 2")
    page.play()
    page.wait_until("(m) => Number(m.rendered) >= 5")
    page.pause()
    frame = int(page.marker("rendered"))
    page.page.wait_for_function(
        f"f => {_VIEWER}.model.model.get('measurements').every(m => m.frame === f)", arg=frame)
    page.kernel_execute(
        f"p = frames[{frame}].positions\n"
        "values = {tuple(m['atoms']): m['value'] for m in v.measurements}\n"
        "assert abs(values[(0, 7)] - np.linalg.norm(p[7] - p[0])) < 1e-9, values\n"
        f"assert abs(values[(0, 1, 2)] - frames[{frame}].get_angle(0, 1, 2)) < 1e-6, values")
    page.screenshot("e2e-measure.png")
    page.kernel_execute("v.measurements = []")


def test_the_repeated_cell_shows_n_x_m_x_l_images(analysis):
    page = analysis
    page.kernel_execute("v.measurements = []\nv.selection = []\nv.step = 0\n"
                        "v.color_by = ''\nv.vectors = ''")
    # one green atom per cell (the frame's own colours), seen along z
    page.kernel_execute(
        "single = ase.Atoms('Si', positions=[[2.0, 2.0, 2.0]], cell=np.eye(3) * 4.0, pbc=True)\n"
        "single.set_array('colors', np.array([[0.0, 1.0, 0.0]]))\n"
        "from zndraw_widget import Room\nRoom('e2e-single', create=True).append(single)\n"
        "v.room = 'e2e-single'")
    page.wait_until("(m) => m.room === 'e2e-single' && m.atoms === '1' && m.rendered === '0'")
    counts = {}
    for repeat in [(1, 1, 1), (2, 2, 1), (3, 2, 2)]:
        page.kernel_execute(f"v.repeat = {repeat}")
        cells = repeat[0] * repeat[1] * repeat[2]
        page.page.wait_for_function(f"n => {_VIEWER}.renderer.cells === n", arg=cells)
        page.page.evaluate(f"() => {{ const r = {_VIEWER}.renderer; r.camera.position.set("
                           "6, 6, 60); r.controls.target.set(6, 6, 0); r.fit(); r.renderNow(); }")
        blobs = page.page.eval_on_selector(f"{VIEWER} canvas", _GREEN_BLOBS)
        counts[repeat] = blobs
        page.screenshot(f"e2e-repeat-{'x'.join(map(str, repeat))}.png")
    # seen along z, the l layers overlap: n x m blobs
    assert counts == {(1, 1, 1): 1, (2, 2, 1): 4, (3, 2, 2): 6}, counts
    page.kernel_execute("v.repeat = (1, 1, 1)\nv.room = 'e2e-analysis'")
    page.wait_until("(m) => m.room === 'e2e-analysis' && m.atoms === '8'")


def test_a_molecule_across_the_boundary_stays_bonded_and_wraps(analysis):
    page = analysis
    # a C-H pair split by the x boundary of a 4 Å cell: bonded through it (0.8 Å)
    page.kernel_execute(
        "split = ase.Atoms('CH', positions=[[0.2, 2, 2], [3.4, 2, 2]], cell=np.eye(3) * 4.0,"
        " pbc=True)\nfrom zndraw_widget import Room\n"
        "Room('e2e-split', create=True).append(split)\nv.room = 'e2e-split'")
    page.wait_until("(m) => m.room === 'e2e-split' && m.atoms === '2' && m.rendered === '0'")
    assert page.page.evaluate(f"() => {_VIEWER}.renderer.bonds") == 1
    # wrapped: an atom outside the cell is drawn inside it
    page.kernel_execute("v.frames[0] = ase.Atoms('CH', positions=[[4.2, 2, 2], [3.4, 2, 2]],"
                        " cell=np.eye(3) * 4.0, pbc=True)\nv.wrap = True")
    page.page.wait_for_function(
        f"() => Math.abs({_VIEWER}.renderer.positions[0] - 0.2) < 1e-5")
    assert page.page.evaluate(f"() => {_VIEWER}.renderer.bonds") == 1
    page.press("f")
    page.page.evaluate(f"() => {_VIEWER}.renderer.renderNow()")
    page.screenshot("e2e-split-molecule.png")
    page.kernel_execute("v.wrap = False\nv.room = 'e2e-analysis'")
    page.wait_until("(m) => m.room === 'e2e-analysis' && m.atoms === '8'")


def test_colours_follow_the_property_and_arrows_are_drawn(analysis):
    page = analysis
    page.kernel_execute("v.step = 0\nv.selection = []")
    page.wait_rendered(frame=0)
    page.kernel_execute("v.color_by = 'calc.charges'")
    page.page.wait_for_selector(f"{VIEWER} [data-role=colorbar]:not([hidden])")
    bar = page.page.locator(f"{VIEWER} [data-role=colorbar]")
    low, high = float(bar.get_attribute("data-min")), float(bar.get_attribute("data-max"))
    page.kernel_execute(f"q = frames[0].calc.results['charges']\n"
                        f"assert abs(q.min() - {low}) < 1e-6 and abs(q.max() - {high}) < 1e-6")
    page.page.evaluate(f"() => {_VIEWER}.renderer.renderNow()")
    charges = page.page.evaluate(
        f"() => Array.from({_VIEWER}.nav.shown.positions).filter((_, i) => i % 3 === 0)")
    lowest, highest = int(np.argmin(charges)), int(np.argmax(charges))
    # viridis: the lowest charge dark purple (blue over green), the highest yellow
    r, g, b = atom_pixel(page, lowest)
    assert b > g and r > g, (r, g, b)
    r, g, b = atom_pixel(page, highest)
    assert r > b + 40 and g > b + 40, (r, g, b)
    page.screenshot("e2e-color-by-charges.png")

    page.kernel_execute("v.color_by = ''\nv.vectors = 'calc.forces'\n"
                        "v.vector_color = '#00ff00'\nv.vector_scale = 1.5")
    page.page.wait_for_function(f"() => {_VIEWER}.renderer.arrows === 8")
    page.page.evaluate(f"() => {_VIEWER}.renderer.renderNow()")
    assert page.green_pixels() > 300
    page.screenshot("e2e-force-arrows.png")
    page.kernel_execute("v.vectors = ''")


def test_hovering_an_atom_shows_its_values(analysis):
    page = analysis
    page.kernel_execute("v.step = 0\nv.selection = []")
    page.wait_rendered(frame=0)
    atom = page.nearest_atom()
    point = page.atom_on_screen(atom)
    page.page.mouse.move(point["x"], point["y"])
    card = page.page.locator(f"{VIEWER} [data-role=inspect]")
    page.page.wait_for_function(
        f"a => {{ const c = document.querySelector('{VIEWER} [data-role=inspect]');"
        " return c && !c.hidden && c.dataset.atom === String(a)"
        " && c.textContent.includes('calc.charges'); }", arg=atom)
    text = card.text_content()
    assert f"atom{atom} Si" in text.replace(" ", "", 1) or f"{atom} Si" in text, text
    page.kernel_execute(f"q = frames[0].calc.results['charges'][{atom}]\n"
                        f"assert f'{{q:.4g}}' in {text!r}, (q, {text!r})")
    page.screenshot("e2e-inspect.png")
    page.page.mouse.move(0, 0)


@pytest.mark.usefixtures("no_ambient_server")
def test_the_full_pages_panel_colours_repeats_and_measures(remote, browser):
    """The standalone page: the analysis panel offers the frame's properties; choosing one
    colours the atoms (with its colour bar), the cell inputs repeat it, the arrows list draws
    the forces; two clicked atoms are measured as numpy measures them."""
    import ase
    from ase.calculators.singlepoint import SinglePointCalculator

    from zndraw_widget import Room

    frames = []
    for i in range(3):
        grid = np.stack(np.meshgrid(*[np.arange(2)] * 3, indexing="ij"), -1).reshape(-1, 3)
        positions = grid * 3.0 + 1.5 + 0.1 * np.sin(np.arange(24).reshape(8, 3) + i)
        atoms = ase.Atoms("Si8", positions=positions, cell=np.eye(3) * 6.0, pbc=True)
        atoms.calc = SinglePointCalculator(atoms, energy=-float(i), charges=positions[:, 0],
                                           forces=np.tile([1.0, 0.0, 0.0], (8, 1)))
        frames.append(atoms)
    Room.create("panel", url=remote.base, token=remote.token).extend(frames)
    page = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}))
    try:
        page.page.goto(f"{remote.base}?token={remote.token}")
        page.page.goto(f"{remote.base}rooms/panel")
        page.wait_rendered(frame=0)
        page.page.click(f"{VIEWER} [data-role=analysis] summary")
        page.page.wait_for_selector(f"{VIEWER} [data-role=color-by] option[value='calc.charges']",
                                    state="attached")
        page.page.select_option(f"{VIEWER} [data-role=color-by]", "calc.charges")
        page.page.wait_for_selector(f"{VIEWER} [data-role=colorbar]:not([hidden])")
        bar = page.page.locator(f"{VIEWER} [data-role=colorbar]")
        charges = frames[0].calc.results["charges"]
        assert float(bar.get_attribute("data-min")) == pytest.approx(charges.min(), abs=1e-6)
        assert float(bar.get_attribute("data-max")) == pytest.approx(charges.max(), abs=1e-6)
        page.page.select_option(f"{VIEWER} [data-role=colormap]", "plasma")
        page.page.select_option(f"{VIEWER} [data-role=vectors]", "calc.forces")
        page.page.wait_for_function(f"() => {_VIEWER}.renderer.arrows === 8")
        for axis in "abc":
            page.page.fill(f"{VIEWER} [data-role=repeat-{axis}]", "2")
            page.page.dispatch_event(f"{VIEWER} [data-role=repeat-{axis}]", "change")
        page.page.wait_for_function(f"() => {_VIEWER}.renderer.cells === 8")
        page.page.check(f"{VIEWER} [data-role=wrap]")
        page.press("f")
        page.page.evaluate(f"() => {_VIEWER}.renderer.renderNow()")
        page.screenshot("full-page-analysis.png")
        # measure two clicked atoms (back to one cell, to click them)
        for axis in "abc":
            page.page.fill(f"{VIEWER} [data-role=repeat-{axis}]", "1")
            page.page.dispatch_event(f"{VIEWER} [data-role=repeat-{axis}]", "change")
        page.press("f")
        page.page.evaluate(f"() => {_VIEWER}.renderer.renderNow()")
        first = page.nearest_atom()
        other = next(i for i in range(8) if i != first)
        canvas = page.page.locator(f"{VIEWER} canvas")
        box = canvas.bounding_box()
        for atom, modifiers in ((first, []), (other, ["Shift"])):
            point = page.atom_on_screen(atom)
            canvas.click(position={"x": point["x"] - box["x"], "y": point["y"] - box["y"]},
                         modifiers=modifiers)
        item = page.page.locator(f"{VIEWER} .zn-panel li[data-kind=distance]")
        item.wait_for(state="attached")
        expected = np.linalg.norm(frames[0].positions[other] - frames[0].positions[first])
        assert float(item.get_attribute("data-value")) == pytest.approx(expected, abs=1e-9)
        page.screenshot("full-page-measure.png")
        assert not page.errors
    finally:
        page.close()
