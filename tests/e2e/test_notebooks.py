"""Whole notebooks: the quickstart in JupyterLab, a viewer in Notebook 7."""

from __future__ import annotations

import shutil

from .conftest import FOLLOWER, ROOT


def test_quickstart_notebook_runs(lab, open_notebook):
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", lab.dir / "quickstart.ipynb")
    page = open_notebook("quickstart.ipynb")
    page.wait_all(2, "m => m.rendered != null && m.length === '80'")
    page.wait_kernel_idle()
    assert page.error_outputs() == 0
    # v.step = 30 from the kernel moved the first view; v.selection is highlighted
    assert page.marker("rendered") == "30"
    banner = page.text("banner")
    assert not banner, banner
    page.screenshot("e2e-quickstart.png")


def test_viewer_in_notebook_7(main_page, open_notebook):
    """Notebook 7 shows room "e2e-main" (made by ``main_page``)."""
    page = open_notebook("classic.ipynb", [FOLLOWER], app="notebooks")
    assert int(page.wait_rendered()["length"]) > 1
    changed, total = page.foreground_pixels()
    assert changed > 0.01 * total
    page.screenshot("e2e-notebook7.png")
