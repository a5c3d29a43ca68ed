"""Files in and out of a room in the browser: a file dropped on the view (or picked with the
upload button) is imported as a background job whose progress bar follows its `job` events,
a corrupt file shows its error and where, and the download form returns files ase reads as
the room's frames. On the standalone full page (token login) and in JupyterLab (cookies and
XSRF under a base URL)."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest

from ..jobs.helpers import same_frames, write_trajectory
from .viewer_page import ViewerPage


@pytest.fixture
def full_page(browser):
    page = ViewerPage(browser.new_page(viewport={"width": 1000, "height": 700}, accept_downloads=True))
    yield page
    page.close()


def job_states(page: ViewerPage) -> list[tuple[str, int, int]]:
    """The ``job`` marker's values noted: (state, frames done, bytes done)."""
    out = []
    for entry in page.recorded("job"):
        state, frames, done = entry["value"].split()
        out.append((state, int(frames), int(done)))
    return out


@pytest.mark.usefixtures("no_ambient_server")
def test_drop_upload_progress_failure_and_download_on_the_full_page(remote, full_page, tmp_path):
    from zndraw_widget import Room

    page = full_page
    room = Room.create("files-drop", url=remote.base, token=remote.token)
    trajectory = tmp_path / "md.extxyz"
    write_trajectory(trajectory, 1500)  # ~10 MB: committed in several pieces
    frames = ase.io.read(trajectory, ":")  # as the file has them (8 decimals)
    page.page.goto(f"{remote.base}rooms/files-drop?token={remote.token}")
    page.wait_marker("status", "empty")
    assert "drop a trajectory file here" in page.text("message")
    page.wait_marker("control", "open")
    page.record("job")

    # drop the file on the view: the progress bar moves with the job's events, then the frames show
    page.drop_file("md.extxyz", trajectory.read_text())
    page.page.locator(".zn-job progress").first.wait_for()
    page.screenshot("files-importing.png")
    page.wait_until("m => (m.job || '').startsWith('done ')")
    states = job_states(page)
    assert states[-1] == ("done", 1500, trajectory.stat().st_size), states
    running = [(frames_done, done) for state, frames_done, done in states if state == "running"]
    assert any(0 < frames_done < 1500 for frames_done, _ in running), states  # seen part-way
    assert [done for _, done in running] == sorted(done for _, done in running)
    page.wait_marker("length", "1500")
    page.wait_rendered()
    assert "md.extxyz: 1500 frames imported" in page.page.locator(".zn-job").first.text_content()
    page.screenshot("files-imported.png")
    same_frames(list(room[:3]), frames[:3])

    # a corrupt file, picked with the upload button: its error says what and where; the
    # frame before it stays
    corrupt = tmp_path / "broken.xyz"
    write_trajectory(corrupt, 2, natoms=4)
    lines = corrupt.read_text().splitlines(keepends=True)
    corrupt.write_text("".join(lines[:6] + lines[6:8] + ["H not a number\n"] + lines[9:]))
    page.page.set_input_files(".zn-root [data-role=upload-input]", str(corrupt))
    page.wait_until("m => (m.job || '').startsWith('failed ')")
    failed = page.page.locator(".zn-job[data-state=failed]")
    message = failed.text_content()
    assert "broken.xyz failed:" in message and "frame 1" in message and "line 7" in message, message
    assert page.page.get_by_label("Dismiss").count() >= 1
    page.wait_marker("length", "1501")
    page.screenshot("files-failed.png")

    # downloads: the whole room, this frame, a slice; ase reads back the room's frames
    whole = ase.io.read(page.download(tmp_path / "all.xyz", "room", "extxyz"), ":")
    same_frames(whole[:1500], frames)
    assert len(whole) == 1501
    page.press("Home")
    page.wait_rendered(frame=0)
    one = ase.io.read(page.download(tmp_path / "one.traj", "frame", "traj"), ":")
    assert len(one) == 1
    np.testing.assert_allclose(one[0].positions, frames[0].positions)
    some = ase.io.read(page.download(tmp_path / "some.xyz", "frames", "extxyz", index="10:20:5"), ":")
    same_frames(some, frames[10:20:5])
    assert page.marker("download").startswith("3 files-drop.xyz 2")
    # a list of frames too long for a URL: said so, nothing asked of the server
    page.page.locator("[data-role=export-index]").fill(",".join(map(str, range(4000))))
    page.page.locator("[data-role=export-go]").click()
    alert = page.page.locator(".zn-export [role=alert]")
    assert "too long for one download" in alert.text_content()
    page.screenshot("files-download-form.png")

    # cancel: the upload throttled to 1 MB/s (Chromium's network emulation), so the job still
    # runs when its cancel button is pressed; the frames committed before stay
    cdp = page.page.context.new_cdp_session(page.page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": 1e6})
    page.page.set_input_files(".zn-root [data-role=upload-input]", str(trajectory))
    page.wait_until("m => /^running [1-9]/.test(m.job || '')")
    page.page.get_by_label("Cancel the import of md.extxyz").click()
    page.wait_until("m => (m.job || '').startsWith('cancelled ')")
    kept = job_states(page)[-1][1]
    assert 0 < kept < 1500
    cancelled = page.page.locator(".zn-job[data-state=cancelled]")
    assert f"md.extxyz: cancelled after {kept} frame" in cancelled.text_content()
    page.wait_marker("length", str(1501 + kept))
    page.screenshot("files-cancelled.png")
    assert not page.errors


def test_drop_and_download_in_jupyterlab(open_notebook, tmp_path):
    """Under a base URL with Jupyter's cookies: the upload and the download send the XSRF token."""
    trajectory = tmp_path / "small.extxyz"
    write_trajectory(trajectory, 12, natoms=8)
    frames = ase.io.read(trajectory, ":")
    page = open_notebook("files.ipynb", [
        "from zndraw_widget import Room, Viewer\nRoom('files-nb', create=True)\nViewer(room='files-nb')"])
    page.wait_marker("status", "empty")
    page.wait_marker("control", "open")
    page.record("job")
    page.drop_file("small.extxyz", trajectory.read_text())
    page.wait_until("m => (m.job || '').startsWith('done ')")
    page.wait_marker("length", "12")
    page.wait_rendered()
    with page.page.expect_download() as info:
        form = page.page.locator(".zn-root [data-role=export-form]")
        page.click("download")
        form.locator("[data-role=export-scope]").select_option("room")
        form.locator("[data-role=export-go]").click()
    info.value.save_as(tmp_path / "back.xyz")
    same_frames(ase.io.read(tmp_path / "back.xyz", ":"), frames)
    page.screenshot("files-jupyterlab.png")
    assert not page.errors
