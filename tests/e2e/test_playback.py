"""Playback: the play button, the ``step`` trait, every frame drawn in order."""

from __future__ import annotations

import itertools

from .conftest import SETUP


def test_play_advances_the_frame_counter(main_page):
    main_page.press("Home")
    main_page.wait_rendered(frame=0)
    before = main_page.control_text("counter")
    main_page.play()
    main_page.wait_until("m => Number(m.rendered) >= 5")
    assert main_page.control_text("counter") != before
    main_page.pause()
    main_page.screenshot("e2e-playing.png")


def test_step_trait_moves_the_view(main_page):
    main_page.kernel_execute("v.step = 7")
    main_page.wait_rendered(frame=7)


def test_a_small_room_is_read_whole_and_a_jump_needs_no_read(open_notebook):
    """Once frame 0 is drawn, a room this small (40 frames of 64 atoms) is read whole in the
    background; ``v.step = n`` is then drawn from the cache, with no read (a jump to a frame
    not cached reads it alone: js/test/clients.test.ts)."""
    page = open_notebook("jump.ipynb", [SETUP.replace('room="e2e-main"', 'room="e2e-jump"')])
    page.wait_rendered(frame=0)
    page.page.wait_for_function("""() => {
        const store = document.querySelector(".zn-root").parentElement.zndraw.store;
        return store.length === 40 && [...Array(40).keys()].every((i) => store.has(i)); }""")
    reads: list[str] = []
    page.page.on("request", lambda r: reads.append(r.url) if "/frames?" in r.url else None)
    page.kernel_execute("v.step = 37")
    page.wait_rendered(frame=37)
    assert not reads, reads


def test_playback_draws_every_frame_in_order(open_notebook):
    """Playing a 1,000-atom trajectory draws frame after frame, none skipped (speed is
    measured by benchmarks/bench_widget.py)."""
    code = SETUP.replace('v = Viewer(frames, room="e2e-main")\nv\n', "") + (
        "grid = np.stack(np.meshgrid(*[np.arange(10)] * 3, indexing='ij'), -1).reshape(-1, 3)\n"
        "big = [ase.Atoms(numbers=np.resize([6, 8, 1, 7], 1000),"
        " positions=grid * 1.5 + 0.3 * np.sin(i / 4 + grid[:, ::-1]), cell=np.eye(3) * 15,"
        " pbc=True) for i in range(30)]\n"
        "Viewer(big, room='e2e-1k')")
    page = open_notebook("big.ipynb", [code])
    assert page.wait_rendered()["atoms"] == "1000"
    page.set_speed("60")
    page.record("rendered")
    page.play()
    seen = page.wait_recorded("rendered", 40)
    page.pause()
    drawn = [int(s["value"]) for s in seen[:40]]
    steps = {(b - a) % 30 for a, b in itertools.pairwise(drawn)}
    assert steps <= {0, 1} and 1 in steps, drawn  # 0: the same frame drawn again
    page.screenshot("e2e-1k-atoms.png")
