"""The viewer in a JupyterLab whose server lacks the zndraw extension (as VS Code or Colab):
the kernel keeps the room and the view reads, plays, follows and edits it over the comm.
One extra JupyterLab for this module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import SETUP, Lab, run_lab
from .viewer_page import ViewerPage

DISABLED = {"ServerApp": {"jpserver_extensions": {"zndraw_widget": False}}}


@pytest.fixture(scope="module")
def bare_lab(tmp_path_factory) -> Iterator[Lab]:
    """A JupyterLab with the zndraw server extension disabled."""
    with run_lab(tmp_path_factory, DISABLED) as running:
        yield running


@pytest.fixture(scope="module")
def comm_page(browser, bare_lab) -> Iterator[ViewerPage]:
    bare_lab.write_notebook("comm.ipynb", [SETUP.replace('room="e2e-main"', 'room="comm"')])
    page = bare_lab.open(browser, "comm.ipynb")
    page.run_all_cells()
    page.wait_rendered()
    yield page
    page.close()


def test_the_view_draws_and_plays_over_the_comm(comm_page):
    page = comm_page
    markers = page.wait_rendered()
    assert markers["transport"] == "comm" and markers["length"] == "40"
    assert int(markers["atoms"]) == 64
    assert "through the kernel" in page.text("status")
    page.kernel_execute("assert v.transport == 'comm' and v.frames.endpoint.local")
    page.press("Home")
    page.wait_rendered(frame=0)
    page.play()
    page.wait_until("m => Number(m.rendered) >= 10")
    page.pause()
    page.screenshot("e2e-comm-playing.png")


def test_the_view_follows_the_kernels_edits(comm_page):
    page = comm_page
    page.press("Home")
    length = int(page.wait_rendered(frame=0)["length"])
    page.kernel_execute("v.frames[0] = molecule(100, n=32)\nv.frames.append(molecule(101))")
    page.wait_until("(m, length) => m.atoms === '32' && m.length === String(length)", length + 1)


def test_a_drag_edit_is_saved_and_undone_over_the_comm(comm_page):
    page = comm_page
    page.press("End")
    index = int(page.wait_rendered()["length"]) - 1
    page.wait_rendered(frame=index)
    atom = page.nearest_atom()
    assert atom is not None, "no atom shows on the canvas"
    page.kernel_execute(f"before = v.frames[{index}].positions[{atom}].copy()")
    point = page.atom_on_screen(atom)
    page.page.mouse.click(point["x"], point["y"])
    edited = page.marker("edited")
    mouse = page.page.mouse
    mouse.move(point["x"], point["y"])
    mouse.down()
    mouse.move(point["x"] + 40, point["y"] + 25, steps=5)
    mouse.up()
    page.wait_until("(m, before) => m.edited != null && m.edited !== before", edited)
    page.kernel_execute(
        f"assert np.linalg.norm(v.frames[{index}].positions[{atom}] - before) > 0.3")
    page.record("history")
    page.press("Control+z")  # the view's undo, through the kernel too
    outcome = page.wait_recorded("history", 1)[0]["value"]
    assert outcome.startswith("undo ok"), (outcome, page.text("banner"))
    page.kernel_execute(f"assert np.allclose(v.frames[{index}].positions[{atom}], before)")
