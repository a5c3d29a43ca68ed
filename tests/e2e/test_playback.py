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


def test_a_jump_from_the_kernel_reads_that_frame_alone(open_notebook):
    """``v.step = n`` to a frame not read yet costs one read of frame n (not of its chunk);
    the frames after it are prefetched after that."""
    page = open_notebook("jump.ipynb", [SETUP.replace('room="e2e-main"', 'room="e2e-jump"')])
    page.wait_rendered(frame=0)
    reads: list[str] = []
    page.page.on("request", lambda r: reads.append(r.url) if "/frames?" in r.url else None)
    page.kernel_execute("v.step = 37")
    page.wait_rendered(frame=37)
    assert reads and "index=37&" in reads[0], reads


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
