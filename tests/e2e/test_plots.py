"""Property plots linked to frames (in a notebook and on the standalone page), frames of
positions and numbers only, and the standalone page in the system's dark mode."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from .viewer_page import ViewerPage

# 30 frames of a small molecule whose energy falls as -0.5 * i and whose temperature rises.
ENERGIES = """\
import numpy as np, ase
from ase.calculators.singlepoint import SinglePointCalculator
from zndraw_widget import Viewer

def frame(i, n=16):
    rng = np.random.default_rng(i)
    atoms = ase.Atoms(numbers=[6, 8, 1, 1] * (n // 4),
                      positions=rng.normal(0, 1.5, (n, 3)), cell=np.eye(3) * 6, pbc=True)
    atoms.info["temperature"] = 300.0 + 10 * i
    atoms.calc = SinglePointCalculator(atoms, energy=-0.5 * i, forces=np.zeros((n, 3)))
    return atoms

frames = [frame(i) for i in range(30)]
"""
PLOTS = ".zn-root .zn-plots"


def plot_frame(page: ViewerPage) -> str | None:
    """The frame the plot's marker stands at."""
    return page.page.get_attribute(PLOTS, "data-zndraw-plot-frame")


def marker_x(page: ViewerPage) -> float:
    box = page.page.locator(f"{PLOTS} .zn-plot-marker").bounding_box()
    assert box is not None, "the plot's marker is not shown"
    return box["x"]


def click_plot_at(page: ViewerPage, frame: int) -> None:
    """Click the plot where frame ``frame`` is (its x on the frame axis)."""
    point = page.page.evaluate(f"""(frame) => {{
        const over = document.querySelector('{PLOTS} .u-over');
        const chart = document.querySelector('.zn-root').parentElement.zndraw.plots.chart;
        const r = over.getBoundingClientRect();
        return {{x: r.left + chart.valToPos(frame, 'x'), y: r.top + r.height / 2}};
    }}""", frame)
    page.page.mouse.click(point["x"], point["y"])


def test_plot_from_python_follows_playback_and_moves_the_view(open_notebook):
    page = open_notebook("plots.ipynb", [ENERGIES + 'v = Viewer(frames, room="e2e-plots")\nv'])
    page.wait_rendered()
    assert not page.page.locator(f"{PLOTS}.zn-show").count()  # no plot until asked for
    page.kernel_execute('v.plots = ["calc.energy"]')
    page.page.wait_for_selector(f"{PLOTS}.zn-show[data-zndraw-plot-points='30']")
    page.page.wait_for_function(f"document.querySelector('{PLOTS}')"
                                ".getAttribute('data-zndraw-plot-frame') === '0'")
    assert "calc.energy 0" in page.text("plot-head")
    start = marker_x(page)
    page.screenshot("e2e-plot-notebook.png")

    # playback: the marker follows the frame shown, and moves right
    page.record("rendered")
    page.play()
    page.wait_recorded("rendered", 6)
    page.pause()
    # (a frame read before the pause may still be drawn after it: compare live values)
    page.page.wait_for_function(f"""() => document.querySelector('{PLOTS}')
        .getAttribute('data-zndraw-plot-frame') === document.querySelector('.zn-root')
        .getAttribute('data-zndraw-rendered')""")
    # (the frame and the head read at once: a late frame may still move them both)
    shown, head = page.page.evaluate(f"""() => [document.querySelector('{PLOTS}')
        .getAttribute('data-zndraw-plot-frame'), document.querySelector('.zn-plot-head').textContent]""")
    assert int(shown) > 0 and marker_x(page) > start
    assert f"calc.energy {-0.5 * int(shown):g}" in head

    # a click on the plot moves the view there, and the kernel hears of it
    click_plot_at(page, 21)
    page.wait_rendered(frame=21)
    assert plot_frame(page) == "21"
    page.kernel_until("v.step == 21")
    page.screenshot("e2e-plot-clicked.png")
    # a choice in the view reaches the kernel's trait
    page.page.get_by_role("button", name="Choose properties to plot against the frames").click()
    page.page.get_by_role("checkbox", name="plot info.temperature").check()
    page.kernel_until("v.plots == ['calc.energy', 'info.temperature']")
    # frames appended from Python: the plot reads them
    page.kernel_execute("v.frames.append(frame(30))")
    page.page.wait_for_selector(f"{PLOTS}[data-zndraw-plot-points='31']")
    assert not page.errors


@pytest.fixture
def full_page(browser):
    page = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}))
    yield page
    page.close()


def upload(remote, room: str, batch: FrameBatch) -> None:
    headers = {"Authorization": f"token {remote.token}"}
    with httpx.Client(base_url=remote.url, headers=headers) as client:
        client.post("rooms", json={"name": room}).raise_for_status()
        client.post(f"rooms/{room}/frames", params={"base_version": 0},
                    content=codec.encode(batch.to_wire())).raise_for_status()


def energy_frames(count: int) -> FrameBatch:
    rng = np.random.default_rng(0)
    return FrameBatch.from_frames([
        {"positions": rng.normal(0, 1.5, (12, 3)), "numbers": np.array([6, 8, 1] * 4),
         "cell": np.eye(3) * 6, "pbc": np.ones(3, bool), "calc.energy": -0.5 * i,
         "info.temperature": 300.0 + 10 * ((i * 7) % count)} for i in range(count)])


def test_full_page_chooses_plots_from_the_rooms_fields(remote, full_page):
    """The chooser lists the room's per-frame numbers; several at once; against another
    property; a drag on the plot moves the view."""
    page = full_page
    upload(remote, "plots-page", energy_frames(20))
    page.page.goto(f"{remote.base}rooms/plots-page?token={remote.token}")
    page.wait_rendered()
    chooser = page.page.get_by_role("button", name="Choose properties to plot against the frames")
    chooser.click()
    energy = page.page.get_by_role("checkbox", name="plot calc.energy")
    # a tick changes what is plotted, not the list: the box ticked stays, with the focus
    energy.evaluate("el => { el.zndrawProbe = true; }")
    energy.check()
    assert energy.evaluate("el => el.zndrawProbe === true && document.activeElement === el")
    # each popover (plots, download, View) is mounted with its panel right after its button
    assert page.page.evaluate("""() => [...document.querySelectorAll('.zn-bar [aria-controls]')]
        .map(b => [b.dataset.role, b.nextElementSibling?.id === b.getAttribute('aria-controls')])""") == [
        ["plots", True], ["download", True], ["view", True]]
    page.page.get_by_role("checkbox", name="plot info.temperature").check()
    page.page.wait_for_selector(f"{PLOTS}.zn-show[data-zndraw-plot-points='20']")
    # the second series may come in after the first one's points are marked: await its dot
    page.page.locator(f"{PLOTS} .zn-plot-dot").nth(1).wait_for(state="attached")
    assert page.page.locator(f"{PLOTS} .zn-plot-dot").count() == 2
    # the view's own model hears of the choice (the page's Python side would)
    assert page.page.evaluate("document.querySelector('.zn-root').parentElement.zndraw"
                              ".model.model.get('plots')") == ["calc.energy", "info.temperature"]
    chooser.click()  # closed again
    assert chooser.get_attribute("aria-expanded") == "false"
    # a drag across the plot moves the view along
    box = page.page.locator(f"{PLOTS} .u-over").bounding_box()
    mouse = page.page.mouse
    mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    mouse.down()
    mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=8)
    mouse.up()
    page.wait_rendered(frame=19)
    page.screenshot("full-page-plots.png")
    # energy against temperature: a click on a point shows that point's frame
    chooser.click()
    page.page.get_by_role("checkbox", name="plot info.temperature").uncheck()
    page.page.get_by_role("combobox", name="Plot against").select_option("info.temperature")
    page.page.wait_for_selector(f"{PLOTS} .uplot[data-key='info.temperature|calc.energy']")
    chooser.click()
    click_plot_at(page, 300.0 + 10 * 7)  # the frame whose temperature is 370: frame 1
    page.wait_rendered(frame=1)
    page.screenshot("full-page-plot-against.png")
    assert not page.errors


def test_frames_of_positions_and_numbers_only_draw(remote, full_page):
    """No cell, no pbc (the protocol allows it): the viewer draws them."""
    page = full_page
    rng = np.random.default_rng(1)
    upload(remote, "bare", FrameBatch.from_frames(
        [{"positions": rng.normal(0, 2, (10, 3)), "numbers": np.full(10, 6)} for _ in range(3)]))
    page.page.goto(f"{remote.base}rooms/bare?token={remote.token}")
    markers = page.wait_rendered()
    assert markers["atoms"] == "10" and markers["length"] == "3"
    changed, total = page.foreground_pixels()
    assert changed > 0.002 * total
    page.screenshot("full-page-bare-frames.png")


def test_full_page_follows_the_systems_dark_mode(remote, browser):
    upload(remote, "dark", energy_frames(5))
    context = browser.new_context(viewport={"width": 1000, "height": 700}, color_scheme="dark")
    page = ViewerPage(context.new_page())
    try:
        page.page.goto(f"{remote.base}rooms/dark?token={remote.token}")
        page.wait_rendered()
        page.wait_background("dark")
        toolbar = page.page.eval_on_selector(".zn-bar", "el => getComputedStyle(el).backgroundColor")
        assert toolbar == "rgb(30, 30, 30)", toolbar
        menu = page.open_view_menu().evaluate("el => getComputedStyle(el).backgroundColor")
        assert menu == toolbar, menu
        # a press on a menu line's name keeps the menu open; the name of a field is its label
        # (the press goes to the field), that of buttons is not (it presses none)
        page.page.get_by_text("Representation", exact=True).click()
        assert page.page.evaluate("document.activeElement.dataset.role") == "representation"
        page.page.get_by_text("Camera", exact=True).click()
        assert page.page.get_by_role("button", name="Orthographic projection").get_attribute("aria-pressed") == "false"
        assert page.page.evaluate("document.activeElement.dataset.role") == "view-menu"
        page.screenshot("full-page-dark-view-menu.png")
        page.close_view_menu()
        page.page.get_by_role("button", name="Choose properties to plot against the frames").click()
        page.page.get_by_role("checkbox", name="plot calc.energy").check()
        page.page.wait_for_selector(f"{PLOTS}.zn-show[data-zndraw-plot-points='5']")
        page.screenshot("full-page-dark.png")
        # Space on a focused toolbar button presses it, and does not toggle play as well
        page.record("playing")
        page.page.get_by_role("button", name="Last frame (End)").press("Space")
        page.wait_rendered(frame=4)
        page.page.get_by_role("button", name="First frame (Home)").press("Space")
        page.wait_rendered(frame=0)
        assert "true" not in [r["value"] for r in page.recorded("playing")], page.recorded("playing")
        # the imports listed take the theme's colours (a file that is no trajectory fails)
        page.page.set_input_files(".zn-root [data-role=upload-input]", files=[
            {"name": "junk.xyz", "mimeType": "text/plain", "buffer": b"not a trajectory\n"}])
        job = page.page.locator(".zn-job[data-state=failed]")
        colours = job.evaluate("el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]")
        assert colours == [toolbar, "rgb(239, 83, 80)"], colours
        page.screenshot("full-page-dark-import-failed.png")
        # every control says what it does
        unnamed = page.page.evaluate("""() => [...document.querySelectorAll(
            '.zn-root button, .zn-root input, .zn-root select')]
            .filter(el => !el.getAttribute('aria-label')).map(el => el.outerHTML)""")
        assert unnamed == []
        page.page.emulate_media(color_scheme="light")
        page.wait_background("light")
    finally:
        context.close()
