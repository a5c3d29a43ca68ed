"""Edits: a kernel write and a kernel lock show in the view; click selects, drag edits."""

from __future__ import annotations


def test_a_kernel_write_changes_the_view(main_page):
    main_page.press("Home")
    length = int(main_page.wait_rendered(frame=0)["length"])
    # Replace frame 0 by a smaller molecule from the kernel: every open view refetches it.
    main_page.kernel_execute("v.frames[0] = molecule(100, n=32)\nv.frames.append(molecule(101))")
    main_page.wait_until("(m, length) => m.atoms === '32' && m.length === String(length)",
                         length + 1)
    main_page.screenshot("e2e-after-write.png")


def test_a_kernel_lock_shows_in_the_view(main_page):
    main_page.wait_rendered()
    main_page.kernel_execute("lock = v.frames.lock()\nlock.__enter__()")
    main_page.wait_marker("locked", "order")
    assert "frames locked by" in main_page.text("status")
    main_page.kernel_execute("lock.__exit__(None, None, None)")
    main_page.wait_marker("locked", "")
    assert "locked" not in main_page.text("status")


def test_click_selects_and_drag_edits_the_frame(main_page):
    page = main_page
    page.press("Home")
    page.wait_rendered(frame=0)
    atom = page.nearest_atom()
    assert atom is not None, "no atom shows on the canvas"
    page.kernel_execute(f"before = v.frames[0].positions[{atom}].copy()")
    point = page.atom_on_screen(atom)
    page.page.mouse.click(point["x"], point["y"])
    page.kernel_until(f"v.selection == [{atom}]")
    # Drag the selected atom: the browser takes the frame lease and PATCHes the positions.
    edited = page.marker("edited")
    mouse = page.page.mouse
    mouse.move(point["x"], point["y"])
    mouse.down()
    mouse.move(point["x"] + 40, point["y"] + 25, steps=5)
    mouse.up()
    page.wait_until("(m, before) => m.edited != null && m.edited !== before", edited)
    page.kernel_execute(f"assert np.linalg.norm(v.frames[0].positions[{atom}] - before) > 0.3")
    page.screenshot("e2e-selected-and-moved.png")
    page.press("Escape")
    page.kernel_until("v.selection == []")
