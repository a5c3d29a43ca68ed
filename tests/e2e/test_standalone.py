"""The standalone server's viewers: in a notebook on another origin, its own full page, and
a room shared read-only from its room list."""

from __future__ import annotations

import ase
import numpy as np
import pytest

from ..conftest import ServerProcess, add_user, make_atoms
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


@pytest.mark.usefixtures("no_ambient_server")
def test_full_page_toolbar_is_one_row_with_a_view_menu(remote, full_page):
    """The full page's toolbar is one row at 768 and 600 px and wraps (nothing clipped)
    narrower; the View menu works from the keyboard: Enter opens it with the focus on its
    first control, a representation chosen there changes the picture, Escape closes it."""
    from zndraw_widget import Room

    page = full_page
    Room.create("toolbar", url=remote.base, token=remote.token).extend(make_atoms(2, natoms=20))
    page.page.goto(f"{remote.base}?token={remote.token}")
    page.page.goto(f"{remote.base}rooms/toolbar")
    page.wait_rendered()
    for width in (768, 600):
        page.set_viewer_width(width)
        rows = page.toolbar_rows()
        assert len(rows) == 1, (width, rows)
    page.set_viewer_width(480)
    assert len(page.toolbar_rows()) >= 2
    assert max(box["right"] for box in page.toolbar_boxes()) <= 480
    page.set_viewer_width(768)
    page.wait_until("(m) => m.look.startsWith('ball-and-stick/')")
    page.viewer_evaluate("(viewer) => viewer.renderer.renderNow()")
    before, _ = page.foreground_pixels()
    button = page.page.locator(".zn-root [data-role=view]")
    button.focus()
    page.page.keyboard.press("Enter")
    panel = page.page.locator(".zn-root [data-role=view-menu]")
    panel.wait_for(state="visible")
    assert panel.locator("[data-role=representation]").evaluate(
        "el => el === document.activeElement")
    panel.locator("[data-role=representation]").select_option("lines")
    page.wait_until("(m) => m.look.startsWith('lines/')")
    page.viewer_evaluate("(viewer) => viewer.renderer.renderNow()")
    after, _ = page.foreground_pixels()
    assert after < 0.5 * before, (after, before)
    page.screenshot("full-page-view-menu.png")
    page.page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert button.get_attribute("aria-expanded") == "false"
    assert button.evaluate("el => el === document.activeElement")
    assert page.errors == []


# JS: the positions the viewer draws, and its selection.
_POSITIONS = "() => Array.from(document.querySelector('.zn-root').parentElement.zndraw" \
    ".renderer.positions)"
_SELECTION = "() => document.querySelector('.zn-root').parentElement.zndraw.model.model" \
    ".get('selection')"


@pytest.mark.usefixtures("no_ambient_server")
def test_a_room_shared_read_only_from_the_room_list(browser, tmp_path):
    """The owner shares a room with ben read-only through the room list's share form; ben's
    viewer says so (status note, ``data-zndraw-readonly``) and a drag of a selected atom
    changes nothing; once the owner gives ben write, the viewer leaves read-only."""
    from zndraw_widget import Room

    users = tmp_path / "users.json"
    ann, ben = add_user(users, "ann"), add_user(users, "ben")
    server = ServerProcess(tmp_path / "storage", "--users", str(users))
    owner = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}))
    reader = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}))
    try:
        room = Room("shared", url=server.base, token=ann, create=True)
        frames = make_atoms(2, natoms=20)
        room.extend(frames)
        # the owner's room list: the share form gives ben read
        owner.page.goto(f"{server.base}?token={ann}")
        form = owner.page.locator('form[data-zndraw-share="shared"]')
        owner.page.locator("details", has=form).locator("summary").click()
        output = form.locator("output")
        output.filter(has_text="not shared").wait_for()
        form.locator("[name=kind]").select_option("user")
        form.locator("[name=name]").fill("ben")
        form.locator("[name=role]").select_option("read")
        form.locator("button").click()
        output.filter(has_text="shared with user:ben (read)").wait_for()
        assert room.access["grants"] == {"user:ben": "read"}

        # ben's viewer: read-only, naming the owner
        reader.page.goto(f"{server.base}rooms/shared?token={ben}")
        reader.wait_rendered()
        reader.wait_marker("readonly", "true")
        assert "read-only: ann may give you write access" in reader.text("status")
        upload = reader.page.locator(".zn-root [data-role=upload]")
        assert upload.is_disabled()  # a reader may download but not upload
        atom = reader.nearest_atom()
        assert atom is not None, "no atom shows on the canvas"
        point = reader.atom_on_screen(atom)
        mouse = reader.page.mouse
        mouse.click(point["x"], point["y"])
        assert reader.page.evaluate(_SELECTION) == [atom]  # selecting is still allowed
        drawn = reader.page.evaluate(_POSITIONS)
        mouse.move(point["x"], point["y"])
        mouse.down()
        mouse.move(point["x"] + 40, point["y"] + 25, steps=5)
        # a drag edit would have moved the atom on screen at each move (and undone the move
        # once the server refused it): still pressed, nothing moved
        assert reader.page.evaluate(_POSITIONS) == drawn
        mouse.up()
        assert "edited" not in reader.markers()
        np.testing.assert_allclose(room[0].positions, frames[0].positions)
        reader.screenshot("read-only.png")

        # write access: the access event takes the viewer out of read-only
        room.share("ben", "write")
        reader.wait_until("m => m.readonly === undefined")
        assert upload.is_enabled()
        assert "read-only" not in reader.text("status")
        assert not reader.errors and not owner.errors
    finally:
        owner.close()
        reader.close()
        server.stop()


@pytest.mark.usefixtures("no_ambient_server")
def test_a_frame_with_more_bonds_and_arrows_than_the_first_draws_them_all(remote, full_page):
    """Bonds and arrows are drawn instanced from buffers that grow with the frames shown:
    every bond and arrow of a bigger frame is drawn, not only as many as the first frame's
    buffers held (three.js keeps an instanced geometry's first instance count as a cap)."""
    from zndraw_widget import Room

    small = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.7]])
    big = ase.Atoms("C64", positions=np.stack(np.meshgrid(*[np.arange(4) * 1.5] * 3),
                                              -1).reshape(-1, 3))
    for atoms in (small, big):
        atoms.set_array("forces", np.ones((len(atoms), 3)))
    Room.create("growing", url=remote.base, token=remote.token).extend([small, big])
    page = full_page
    page.page.goto(f"{remote.base}?token={remote.token}")
    page.page.goto(f"{remote.base}rooms/growing")
    page.wait_rendered(frame=0)
    page.page.click(".zn-root [data-role=analysis] summary")
    page.page.wait_for_selector(".zn-root [data-role=vectors] option[value='arrays.forces']",
                                state="attached")
    page.page.select_option(".zn-root [data-role=vectors]", "arrays.forces")
    page.page.wait_for_function("() => document.querySelector('.zn-root').parentElement"
                                ".zndraw.renderer.arrows === 2")
    count_drawn = """(viewer) => {
      const r = viewer.renderer, layers = r.layers;
      const drawn = {};
      for (const name of ["bonds", "vectors"]) {
        for (const layer of layers.all) layer.object.visible = layer === layers[name];
        r.renderNow();
        drawn[name] = r.renderer.info.render.triangles;
        for (const layer of layers.all) layer.object.visible = true;
      }
      return { bonds: layers.bonds.count, arrows: r.arrows, drawn };
    }"""
    first = page.viewer_evaluate(count_drawn)
    assert first["bonds"] == 1 and first["arrows"] == 2
    page.press("End")
    page.wait_rendered(frame=1)
    page.page.wait_for_function("() => document.querySelector('.zn-root').parentElement"
                                ".zndraw.renderer.arrows === 64")
    second = page.viewer_evaluate(count_drawn)
    assert second["bonds"] == 144 and second["arrows"] == 64  # 3 x 4 x 4 x 3 nearest pairs
    # every instance drawn: the triangles grew with the instances
    assert second["drawn"]["bonds"] == 144 * first["drawn"]["bonds"], (first, second)
    assert second["drawn"]["vectors"] == 32 * first["drawn"]["vectors"], (first, second)
