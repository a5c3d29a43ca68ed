"""Looks, camera and figures end to end: a style set from Python (or the view's menu) shows,
the camera goes both ways, screenshots of any size and movies are rendered by the browser
while a kernel cell runs. Pictures are kept in test-artifacts/ (looks-*.png, looks-*.webm).
"""

from __future__ import annotations

import pytest

from .viewer_page import ARTIFACTS, ViewerPage

av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")

FRAMES = 20
SETUP = f"""\
import numpy as np, ase
from zndraw_widget import Viewer

def molecule(i, n=64):
    rng = np.random.default_rng(i)
    grid = np.stack(np.meshgrid(*[np.arange(4)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    positions = grid * 1.4 + 0.3 * np.sin(i / 3) + rng.normal(0, 0.05, (n, 3))
    return ase.Atoms(numbers=[6, 8, 1, 7] * (n // 4), positions=positions)

v = Viewer([molecule(i) for i in range({FRAMES})], room="e2e-looks")
v
"""

# JS: draw now, then count (foreground, dark) pixels of the canvas: foreground differs from
# the corner's colour, dark is near-black (label text).
COUNT = """(viewer) => {
    viewer.renderer.renderNow();
    const canvas = viewer.renderer.canvas;
    const c = document.createElement('canvas'); c.width = canvas.width; c.height = canvas.height;
    const ctx = c.getContext('2d'); ctx.drawImage(canvas, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let fg = 0, dark = 0;
    for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i] - d[0]) + Math.abs(d[i+1] - d[1]) + Math.abs(d[i+2] - d[2]) > 30) fg++;
        if (d[i] + d[i+1] + d[i+2] < 90) dark++;
    }
    return [fg, dark];
}"""
# JS: the camera the view draws with, and the camera trait the model last holds.
CAMERA = """(viewer) => ({drawn: viewer.renderer.rig.state(),
                        model: viewer.model.model.get('camera')})"""


@pytest.fixture(scope="module")
def looks(browser, lab):
    lab.write_notebook("looks.ipynb", [SETUP])
    page = lab.open(browser, "looks.ipynb")
    page.run_all_cells()
    page.wait_rendered()
    yield page
    page.close()


def set_style(page: ViewerPage, style: str, representation: str, name: str) -> tuple[int, int]:
    """Set ``v.style`` in the kernel, wait until the view draws it, save the picture as
    ``looks-<name>.png``, and return its (foreground, dark) pixel counts."""
    before = page.marker("look")
    page.kernel_execute(f"v.style = {style}")
    page.wait_until("(m, a) => m.look !== a.before && m.look.startsWith(a.rep + '/')",
                    {"before": before, "rep": representation})
    counts = page.viewer_evaluate(COUNT)
    page.screenshot(f"looks-{name}.png")
    return tuple(counts)


def test_a_style_change_shows(looks):
    looks.wait_until("(m) => m.look.startsWith('ball-and-stick/')")  # the default look
    ball, _ = looks.viewer_evaluate(COUNT)
    looks.screenshot("looks-ball-and-stick.png")
    spacefill, _ = set_style(looks, "{'representation': 'spacefill'}", "spacefill", "spacefill")
    lines, _ = set_style(looks, "{'representation': 'lines'}", "lines", "lines")
    ligand, _ = set_style(looks, "{'representation': 'lines', 'groups': [{'atoms': list(range(16)),"
                          " 'representation': 'spacefill', 'atom_scale': 1.2}]}", "lines",
                          "lines-with-spacefill-group")
    hidden, _ = set_style(looks, "{'groups': [{'elements': ['C', 'O', 'N'], 'hidden': True}]}",
                          "ball-and-stick", "hidden-elements")
    _, dark_labels = set_style(looks, "{'labels': {'text': 'index', 'size': 16}}",
                               "ball-and-stick", "index-labels")
    _, dark_plain = set_style(looks, "{}", "ball-and-stick", "ball-and-stick-again")
    assert spacefill > 1.3 * ball, (spacefill, ball)
    assert lines < 0.5 * ball, (lines, ball)
    assert lines < ligand < spacefill, (lines, ligand, spacefill)
    assert hidden < 0.5 * ball, (hidden, ball)  # only the hydrogens are left
    assert dark_labels > dark_plain + 200, (dark_labels, dark_plain)
    assert looks.errors == []


def test_the_views_menu_sets_the_style_trait(looks):
    looks.open_view_menu().locator("[data-role=representation]").select_option("licorice")
    looks.wait_until("(m) => m.look.startsWith('licorice/')")
    looks.close_view_menu()
    looks.kernel_until("v.style == {'representation': 'licorice'}")
    looks.kernel_execute("v.style = {}")
    with pytest.raises(AssertionError, match="unknown key 'colour'"):
        looks.kernel_execute("v.style = {'colour': 'red'}")


def test_the_toolbar_is_one_row_and_the_view_menu_works(looks):
    """At 768 px (a notebook's usual width) every control of the toolbar is on one row; the
    View menu opens, changes the picture, and closes on Escape (focus back on its button)
    and on a click outside."""
    size = looks.page.viewport_size
    looks.set_viewer_width(768)
    try:
        rows = looks.toolbar_rows()
        assert len(rows) == 1, rows
        looks.screenshot("e2e-toolbar-768.png")
        looks.wait_until("(m) => m.look.startsWith('ball-and-stick/')")
        ball, _ = looks.viewer_evaluate(COUNT)
        button = looks.page.locator(".zn-root [data-role=view]")
        panel = looks.open_view_menu()
        assert button.get_attribute("aria-controls") == panel.get_attribute("id")
        assert button.get_attribute("aria-expanded") == "true"
        representation = panel.locator("[data-role=representation]")
        assert representation.evaluate("el => el === document.activeElement")
        representation.select_option("spacefill")
        looks.wait_until("(m) => m.look.startsWith('spacefill/')")
        spacefill, _ = looks.viewer_evaluate(COUNT)
        assert spacefill > 1.3 * ball, (spacefill, ball)
        looks.screenshot("e2e-view-menu.png")
        looks.page.keyboard.press("Escape")
        panel.wait_for(state="hidden")
        assert button.get_attribute("aria-expanded") == "false"
        assert button.evaluate("el => el === document.activeElement")
        looks.kernel_until("v.style == {'representation': 'spacefill'}")
        looks.open_view_menu()
        looks.page.locator(".zn-root canvas").click(position={"x": 10, "y": 10})
        panel.wait_for(state="hidden")
    finally:
        looks.page.set_viewport_size(size)
        looks.kernel_execute("v.style = {}")
    looks.wait_until("(m) => m.look.startsWith('ball-and-stick/')")
    assert looks.errors == []


def test_camera_both_ways(looks):
    looks.kernel_execute("v.camera = {'position': [2.1, 2.1, 40], 'target': [2.1, 2.1, 2.1],"
                         " 'up': [0, 1, 0], 'fov': 30}")
    looks.page.wait_for_function(f"""() => {{
        const c = ({CAMERA})(document.querySelector('.zn-root').parentElement.zndraw).drawn;
        return c.position[2] === 40 && c.fov === 30; }}""")
    looks.screenshot("looks-camera-from-python.png")
    # The mouse rotates the view: the kernel reads where it was left.
    box = looks.page.locator(".zn-root canvas").bounding_box()
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    looks.page.mouse.move(x, y)
    looks.page.mouse.down()
    for step in range(1, 11):
        looks.page.mouse.move(x + 20 * step, y + 5 * step)
    looks.page.mouse.up()
    looks.page.wait_for_function(f"""() => {{
        const c = ({CAMERA})(document.querySelector('.zn-root').parentElement.zndraw);
        return JSON.stringify(c.drawn) === JSON.stringify(c.model) && c.drawn.position[2] !== 40; }}""")
    drawn = looks.viewer_evaluate(CAMERA)["drawn"]
    # ipywidgets sends a trait's updates one at a time, each once the kernel has taken the
    # one before (and the kernel takes them between executions): ask until it has the last.
    looks.kernel_until(f"v.camera['position'] == {drawn['position']}")
    looks.kernel_execute("assert v.camera['position'][2] != 40")
    # Orthographic from the View menu; reset from the View menu.
    looks.open_view_menu()
    looks.click("orthographic")
    looks.page.wait_for_function("""() => document.querySelector('.zn-root').parentElement
        .zndraw.model.model.get('camera').orthographic === true""")
    looks.screenshot("looks-orthographic.png")
    looks.kernel_until("v.camera['orthographic'] is True")
    looks.kernel_execute("v.camera = {'orthographic': False}")
    looks.open_view_menu()
    looks.click("reset")


def test_screenshot_from_python_while_a_cell_runs(looks, lab):
    path = ARTIFACTS / "looks-screenshot-2000.png"
    ARTIFACTS.mkdir(exist_ok=True)
    looks.kernel_execute(f"png = v.screenshot({str(path)!r}, width=2000, height=2000,"
                         " transparent=True)\nassert png[:4] == b'\\x89PNG'")
    image = Image.open(path)
    assert image.size == (2000, 2000) and image.mode == "RGBA"
    alpha = image.getchannel("A")
    corners = [alpha.getpixel(p) for p in [(0, 0), (1999, 0), (0, 1999), (1999, 1999)]]
    assert corners == [0, 0, 0, 0]
    assert alpha.getextrema() == (0, 255)  # the atoms are opaque
    looks.kernel_execute("png = v.screenshot(width=300, height=200)")
    looks.kernel_execute("from PIL import Image; import io\n"
                         "im = Image.open(io.BytesIO(png)); assert im.size == (300, 200)\n"
                         "assert im.convert('RGBA').getpixel((0, 0))[3] == 255")
    with pytest.raises(AssertionError, match="1 to 8192"):
        looks.kernel_execute("v.screenshot(width=20000)")


def count_frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_movie_from_python(looks):
    path = ARTIFACTS / "looks-movie.webm"
    looks.kernel_execute(f"v.movie({str(path)!r}, frames=range({FRAMES}), fps=10, width=320,"
                         " height=240)")
    assert count_frames(path) == FRAMES
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)
    looks.wait_rendered()  # the view is back on its frame


def test_movie_from_the_button(looks, lab):
    before = set(lab.dir.glob("e2e-looks-*.webm"))
    looks.open_view_menu()
    looks.click("movie")
    looks.page.wait_for_function("""() => document.querySelector('.zn-root .zn-banner')
        .textContent.startsWith('Movie saved as') || document.querySelector(
        '.zn-root .zn-banner').textContent.startsWith('The movie failed')""", timeout=180_000)
    assert looks.text("banner").startswith("Movie saved as"), looks.text("banner")
    (made,) = set(lab.dir.glob("e2e-looks-*.webm")) - before
    assert count_frames(made) == FRAMES
    (ARTIFACTS / "looks-movie-button.webm").write_bytes(made.read_bytes())
