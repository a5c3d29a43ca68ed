"""``Viewer.save_html``: the page, opened in Chromium from a file:// URL with no server and
no kernel, draws and plays every frame; frames that would make it too large are refused."""

from __future__ import annotations

import numpy as np
import pytest

from zndraw_widget import static_page
from zndraw_widget.widget import _bundle

from ..conftest import make_atoms
from .viewer_page import ViewerPage

FRAMES = 12


def trajectory(count: int = FRAMES, natoms: int = 24):
    import ase

    rng = np.random.default_rng(3)
    base = rng.uniform(0, 6, (natoms, 3))
    return [ase.Atoms(numbers=np.resize([6, 8, 1], natoms), positions=base + 0.2 * i,
                      cell=np.eye(3) * 8, pbc=True) for i in range(count)]


def test_the_saved_page_plays_every_frame_from_a_file(browser, tmp_path):
    path = static_page.write_page(tmp_path / "view.html", trajectory(), _bundle().read_bytes(),
                                  {"height": 400, "color_by": ""}, "saved run")
    page = ViewerPage(browser.new_context(viewport={"width": 900, "height": 600}).new_page())
    try:
        page.page.goto(path.as_uri())
        markers = page.wait_rendered(frame=0)
        assert (markers["transport"], markers["length"], markers["atoms"]) == (
            "static", str(FRAMES), "24")
        assert "saved page" in page.text("status")
        page.set_speed("60")
        page.record("rendered")
        page.play()
        seen = page.wait_recorded("rendered", FRAMES + 1)
        page.pause()
        assert {int(s["value"]) for s in seen} == set(range(FRAMES))  # every frame drawn
        assert page.errors == []
        page.screenshot("e2e-saved-page.png")
    finally:
        page.close()


def test_too_many_frames_are_refused_with_what_to_do(tmp_path):
    with pytest.raises(ValueError, match=r"more than the 0.01 MB .*frames=viewer.frames\[::10\]"):
        static_page.write_page(tmp_path / "big.html", make_atoms(50, natoms=100), b"", {}, "big",
                               max_mb=0.01)
    with pytest.raises(ValueError, match="no frames"):
        static_page.write_page(tmp_path / "none.html", [], b"", {}, "none")
    assert not (tmp_path / "big.html").exists()


# A notebook's saved widget state rendered with no kernel (as nbconvert's HTML and nbviewer
# do): the model's traits as saved, custom messages go nowhere.
SAVED_STATE = """<!doctype html><meta charset="utf-8"><body><div id="viewer"></div>
<script type="module">
const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const state = { room: "saved", transport: "comm", api_url: "", step: 0,
                selection: [], height: 400, snapshot: new DataView(bytes("__SNAPSHOT__").buffer) };
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes() {},
                on() {}, off() {}, send() {} };
const code = new Blob([bytes("__BUNDLE__")], { type: "text/javascript" });
const { default: widget } = await import(URL.createObjectURL(code));
widget.render({ model, el: document.getElementById("viewer") });
</script>"""


def test_saved_widget_state_shows_the_snapshot_without_a_kernel(browser, tmp_path):
    import base64

    frames = trajectory()
    page_path = tmp_path / "saved.html"
    page_path.write_text(SAVED_STATE.replace(
        "__SNAPSHOT__", base64.b64encode(static_page.snapshot(frames[-1])).decode()).replace(
        "__BUNDLE__", base64.b64encode(_bundle().read_bytes()).decode()))
    page = ViewerPage(browser.new_context().new_page())
    try:
        page.page.goto(page_path.as_uri())
        markers = page.wait_rendered(frame=0)  # once the kernel has not answered
        assert (markers["transport"], markers["length"], markers["atoms"]) == ("static", "1",
                                                                              "24")
        assert "saved widget state" in page.text("status")
    finally:
        page.close()
