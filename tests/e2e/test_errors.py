"""What the viewer shows when it cannot show a room."""

from __future__ import annotations


def test_missing_room_shows_an_error(open_notebook):
    page = open_notebook("missing.ipynb", ["from zndraw_widget import Viewer\n"
                                           "Viewer(room='no-such-room')"])
    page.wait_marker("status", "error")
    assert "does not exist" in page.text("message")
    page.screenshot("e2e-missing-room.png")
