"""The standalone server's viewers: in a notebook on another origin, and its own full page."""

from __future__ import annotations

import numpy as np
import pytest

from ..conftest import make_atoms
from .conftest import SETUP
from .viewer_page import ViewerPage


def test_viewer_of_a_standalone_server_on_another_origin(remote, open_notebook):
    """CORS, the websocket's origin check and the token asked of the kernel (never a
    synced trait), end to end."""
    cells = [SETUP.replace('v = Viewer(frames, room="e2e-main")',
                           f'v = Viewer(frames[:5], url="{remote.base}", token="{remote.token}")')]
    page = open_notebook("remote.ipynb", cells)
    assert page.wait_rendered()["length"] == "5"
    page.wait_marker("control", "open")
    page.screenshot("e2e-remote.png")


@pytest.fixture
def full_page(browser):
    page = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}))
    yield page
    page.close()


@pytest.mark.usefixtures("no_ambient_server")
def test_full_page_viewer(remote, full_page):
    from zndraw_widget import Room

    page = full_page
    Room.create("full-page", url=remote.base, token=remote.token).extend(make_atoms(4, natoms=20))
    page.page.goto(f"{remote.base}?token={remote.token}")
    page.page.click("text=full-page")
    data = page.wait_rendered()
    assert data["length"] == "4" and data["atoms"] == "20"
    changed, total = page.foreground_pixels()
    assert changed > 0.005 * total
    # the control channel opens with the login cookie (same origin)
    page.wait_marker("control", "open")
    page.press("End")
    page.wait_rendered(frame=3)
    page.screenshot("full-page.png")
    # per-atom colours from the frame's arrays replace the elements' colours
    styled = make_atoms(1, natoms=20)[0]
    styled.numbers[:] = 8  # oxygen: red, unless the colours apply
    styled.set_array("colors", np.tile([0.0, 1.0, 0.0], (20, 1)))
    styled.set_array("radii", np.full(20, 0.6))
    Room.create("styled", url=remote.base, token=remote.token).append(styled)
    page.page.goto(f"{remote.base}rooms/styled")
    page.wait_rendered()
    green = page.green_pixels()
    assert green > 500, green
    page.screenshot("full-page-colors.png")
