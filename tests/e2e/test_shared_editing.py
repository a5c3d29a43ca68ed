"""Editing people expect, end to end: Ctrl+Z undoes this view's drag in every view (a banner
when someone else's change is in the way), a selection travels between pages and the kernel
(other people's show in their colour), bookmarks from Python show and jump, a rotating drag
is one edit."""

from __future__ import annotations

import pytest

from ..conftest import ServerProcess, add_user, make_atoms
from .conftest import FOLLOWER
from .viewer_page import ViewerPage


def _select_an_atom(page: ViewerPage) -> tuple[int, dict[str, float]]:
    """Frame 0 shown, its atom nearest the camera clicked (selected); the atom and where."""
    page.press("Home")
    page.wait_rendered(frame=0)
    atom = page.nearest_atom()
    assert atom is not None, "no atom shows on the canvas"
    point = page.atom_on_screen(atom)
    page.page.mouse.click(point["x"], point["y"])
    page.page.wait_for_function("(a) => document.querySelector('.zn-root').parentElement"
                                ".zndraw.model.model.get('selection')[0] === a", arg=atom)
    return atom, point


def test_ctrl_z_reverts_a_drag_edit_in_every_view(main_page, open_notebook):
    follower = open_notebook("undo-follower.ipynb", [FOLLOWER])
    try:
        _undo_in_every_view(main_page, follower)
    except Exception:
        main_page.diagnose("undoing in the main page")
        follower.diagnose("following the main page")
        raise


def _undo_in_every_view(page: ViewerPage, follower: ViewerPage) -> None:
    follower.wait_rendered()
    atom, point = _select_an_atom(page)
    follower.wait_rendered(frame=0)  # it follows the presenter's Home
    page.kernel_execute(f"before = v.frames[0].positions[{atom}].copy()")
    before = page.page.evaluate("(a) => Array.from(document.querySelector('.zn-root')"
                                ".parentElement.zndraw.renderer.positions.slice(3 * a, 3 * a + 3))",
                                atom)
    edited = page.marker("edited")
    page.drag(point, 40, 25)
    page.wait_until("(m, before) => m.edited != null && m.edited !== before", edited)
    page.kernel_execute(f"assert np.linalg.norm(v.frames[0].positions[{atom}] - before) > 0.3")
    follower.page.wait_for_function(  # the follower draws the move
        "(a) => { const p = document.querySelector('.zn-root').parentElement.zndraw.renderer"
        ".positions; return Math.hypot(...[0, 1, 2].map(k => p[3 * a.atom + k] - a.before[k]))"
        " > 0.3; }", arg={"atom": atom, "before": before})

    page.record("history")
    page.press("Control+z")
    outcome = page.wait_recorded("history", 1)[0]["value"]
    assert outcome.startswith("undo ok"), (outcome, page.text("banner"))
    page.kernel_execute(f"assert np.allclose(v.frames[0].positions[{atom}], before), "
                        f"v.frames[0].positions[{atom}]")
    for view in (page, follower):
        view.wait_drawn_atom(atom, before)
    follower.screenshot("e2e-undo-follower.png")

    # Redo brings the move back; then someone else's change is in the way of an undo.
    page.press("Control+Shift+z")
    assert page.wait_recorded("history", 2)[1]["value"].startswith("redo ok")
    page.kernel_execute(f"assert np.linalg.norm(v.frames[0].positions[{atom}] - before) > 0.3")
    page.kernel_execute("v.frames[0] = v.frames[1]")  # the kernel's change: not the view's
    page.press("Control+z")
    refused = page.wait_recorded("history", 3)[2]
    assert refused["value"].startswith("undo conflict"), refused
    assert "someone else changed it since" in refused["banner"]
    page.screenshot("e2e-undo-conflict.png")


def test_a_selection_in_one_page_appears_in_another_and_in_the_kernel(main_page, open_notebook):
    page = main_page
    other = open_notebook("selection-follower.ipynb", [FOLLOWER])
    other.wait_rendered()
    other.wait_marker("control", "open")
    atom, _ = _select_an_atom(page)
    other.page.wait_for_function("(a) => document.querySelector('.zn-root').parentElement"
                                 ".zndraw.model.model.get('selection').join() === a", arg=str(atom))
    page.kernel_execute(f"assert v.frames.selection == [{atom}], v.frames.selection")
    # and from the kernel to every view
    page.kernel_execute("v.frames.selection = [1, 2, 3]")
    for view in (page, other):
        view.page.wait_for_function("() => document.querySelector('.zn-root').parentElement"
                                    ".zndraw.model.model.get('selection').join() === '1,2,3'")
    page.kernel_until("v.selection == [1, 2, 3]")
    other.screenshot("e2e-selection-shared.png")
    page.press("Escape")  # cleared here: once the other page hears it, the server has it
    other.page.wait_for_function("() => document.querySelector('.zn-root').parentElement"
                                 ".zndraw.model.model.get('selection').length === 0")
    page.kernel_execute("assert v.frames.selection == [], v.frames.selection")


def test_a_bookmark_set_from_python_shows_and_a_click_jumps(main_page):
    page = main_page
    page.press("Home")
    page.wait_rendered(frame=0)
    page.kernel_execute(
        'v.frames.bookmarks["e2e side view"] = {"frame": 5, "camera": {"position": [30.0, 2.0, 2.0],'
        ' "target": [2.0, 2.0, 2.0], "up": [0, 0, 1], "fov": 30}}')
    mark = page.page.locator('.zn-root [data-role=bookmark][data-name="e2e side view"]')
    mark.wait_for()
    mark.click()
    page.wait_rendered(frame=5)
    page.wait_marker("bookmark", "e2e side view")
    camera = page.page.evaluate("() => { const r = document.querySelector('.zn-root')"
                                ".parentElement.zndraw.renderer; return [r.camera.fov,"
                                " ...r.camera.position.toArray()]; }")
    assert camera == pytest.approx([30, 30, 2, 2], abs=1e-6)
    page.screenshot("e2e-bookmark.png")
    # bookmarking from the view: what it shows, kept in the room for Python
    count = int(page.marker("bookmarks"))
    page.page.locator(".zn-root [data-role=add-bookmark]").click()
    page.wait_marker("bookmarks", str(count + 1))
    page.kernel_execute("marks = dict(v.frames.bookmarks)\n"
                        "added = [m for n, m in marks.items() if n.startswith('view ')]\n"
                        "assert added and added[-1]['frame'] == 5, marks\n"
                        "assert added[-1]['camera']['fov'] == 30, added")
    page.kernel_execute('del v.frames.bookmarks["e2e side view"]')
    mark.wait_for(state="detached")


def test_a_rotating_drag_is_one_edit_that_keeps_the_shape(main_page):
    page = main_page
    atom, point = _select_an_atom(page)
    page.press("Control+a")  # every atom: the molecule turns about its centre
    page.page.wait_for_function("() => document.querySelector('.zn-root').parentElement.zndraw"
                                ".model.model.get('selection').length > 10")
    page.kernel_execute("before = v.frames[0].positions.copy()\n"
                        "versions = len(v.frames.history(0))")
    edited = page.marker("edited")
    page.drag(point, 60, 10, hold="Alt")
    page.wait_until("(m, before) => m.edited != null && m.edited !== before", edited)
    page.kernel_execute(
        "def pdist(p): return np.linalg.norm(p[:, None] - p[None], axis=-1)\n"
        "after = v.frames[0].positions\n"
        "assert len(v.frames.history(0)) == versions + 1  # one edit\n"
        "assert np.abs(after - before).max() > 0.3  # it turned\n"
        "assert np.allclose(pdist(after), pdist(before), atol=2e-3)  # rigidly\n"
        "assert np.allclose(after.mean(0), before.mean(0), atol=2e-3)  # about its centre")
    page.screenshot("e2e-rotated.png")
    page.press("Control+z")  # the undo is a request of its own: await its outcome
    page.kernel_until("np.allclose(v.frames[0].positions, before, atol=1e-3)")
    page.press("Escape")


@pytest.mark.usefixtures("no_ambient_server")
def test_other_peoples_selections_show_in_their_colour(browser, tmp_path):
    """Two users of a standalone server: ben's selection, set from his kernel, is drawn in
    ann's view as shells in his colour (pixels), and leaves when he clears it."""
    from zndraw_widget import Room

    users = tmp_path / "users.json"
    ann, ben = add_user(users, "ann"), add_user(users, "ben")
    server = ServerProcess(tmp_path / "storage", "--users", str(users))
    page = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}))
    try:
        room = Room("colours", url=server.base, token=ann, create=True)
        room.extend(make_atoms(1, natoms=20))
        room.share("ben", "read")  # a reader may share his selection
        page.page.goto(f"{server.base}rooms/colours?token={ann}")
        page.wait_rendered()
        page.wait_marker("control", "open")
        plain = page.page.locator(".zn-root canvas").screenshot()
        bens = Room("colours", url=server.base, token=ben)
        bens.selection = list(range(10))
        page.wait_marker("marked", "10")
        assert page.text("legend") == "ben (10)"  # whose colour it is
        assert page.selection() == []  # ann's own selection is hers
        assert room.selections == {"ben": list(range(10))}
        marked = page.screenshot("e2e-others-selection.png")
        assert page.page.locator(".zn-root canvas").screenshot() != plain
        assert marked.stat().st_size > 0
        bens.selection = []
        page.wait_marker("marked", "0")
        assert page.text("legend") == ""
        bens.close()
        room.close()
        assert not page.errors
    finally:
        page.close()
        server.stop()
