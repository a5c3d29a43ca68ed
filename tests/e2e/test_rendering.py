"""The viewer draws atoms: a small trajectory, a 12,167-atom system, the screenshot button."""

from __future__ import annotations

from .viewer_page import ARTIFACTS


def test_viewer_draws_atoms(main_page):
    first = main_page.first_render
    assert first["rendered"] == "0" and first["length"] == "40"
    assert first["atoms"] == "64"
    changed, total = main_page.foreground_pixels()
    assert changed > 0.02 * total, f"only {changed} of {total} pixels differ from the background"
    main_page.screenshot("e2e-viewer.png")
    assert not main_page.errors


def test_big_system_draws(open_notebook):
    code = (
        "import numpy as np, ase\nfrom zndraw_widget import Viewer\n"
        "g = np.stack(np.meshgrid(*[np.arange(23)] * 3, indexing='ij'), -1).reshape(-1, 3)\n"
        "Viewer([ase.Atoms(numbers=np.resize([14, 8], len(g)), positions=g * 2.0)],"
        " room='e2e-big')")
    page = open_notebook("big-system.ipynb", [code])
    assert page.wait_rendered()["atoms"] == str(23**3)
    changed, total = page.foreground_pixels()
    assert changed > 0.05 * total
    page.screenshot("e2e-big.png")


def test_screenshot_button_downloads_a_png(main_page):
    with main_page.page.expect_download() as download:
        main_page.click("screenshot")
    path = ARTIFACTS / "e2e-download.png"
    download.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
