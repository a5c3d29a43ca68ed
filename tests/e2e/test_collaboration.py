"""Several views of one room: following a presenter, resync after a dropped websocket."""

from __future__ import annotations

from .conftest import FOLLOWER


def test_two_pages_follow_one_presenter(main_page, open_notebook):
    present = int(main_page.marker("present"))
    follower = open_notebook("follower.ipynb", [FOLLOWER])
    follower.wait_rendered()
    # The presenter's view counts the follower's view as present
    main_page.wait_until("(m, present) => Number(m.present) > present", present)
    assert " with " in main_page.text("status")
    follower.wait_marker("control", "open")
    main_page.wait_marker("control", "open")
    # The presenter steps forward with the keyboard: the follower moves along.
    main_page.press("End")
    end = int(main_page.marker("length")) - 1
    main_page.wait_rendered(frame=end)
    follower.wait_rendered(frame=end)
    main_page.press("ArrowLeft")
    main_page.wait_rendered(frame=end - 1)
    follower.wait_rendered(frame=end - 1)
    follower.screenshot("e2e-follower.png")


def test_reconnects_and_catches_up_after_a_dropped_websocket(main_page):
    length = int(main_page.wait_rendered()["length"])
    main_page.record("control")
    main_page.drop_control_socket()
    # While it is away the room changes; once back it resynchronises by seq.
    main_page.kernel_execute("v.frames.append(molecule(102))")
    main_page.wait_recorded_value("control", "reconnecting")
    main_page.wait_until(
        "(m, length) => m.control === 'open' && m.length === String(length)", length + 1)
    seen = main_page.recorded("control")
    assert any("reconnecting" in s["banner"] for s in seen if s["value"] == "reconnecting")
