"""The Python side of the widget (``Viewer``) and the wire-format fixture the JS tests use."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest

from zndraw_widget import codec

from .conftest import make_atoms

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "src" / "zndraw_widget" / "static" / "widget.js"

pytestmark = pytest.mark.usefixtures("no_ambient_server")


def fixture_message() -> dict:
    """The message behind ``js/test/fixture.ts`` (decoded by the JS codec tests)."""
    return {"text": "héllo", "f8": np.arange(6, dtype="<f8").reshape(2, 3) / 2,
            "i8": np.array([1, -2, 3], dtype="<i8"), "u1": np.array([1, 2, 250], dtype="u1"),
            "b1": np.array([True, False, True]), "f4": np.ones(5, dtype="<f4"),
            "empty": np.zeros((0, 3)), "nested": {"list": [1, 2, 3], "none": None}}


def test_js_fixture_is_what_the_python_codec_writes():
    text = (ROOT / "js" / "test" / "fixture.ts").read_text()
    fixture = re.search(r'FIXTURE_HEX = "([0-9a-f]+)"', text).group(1)
    assert codec.encode(fixture_message()).hex() == fixture, (
        "js/test/fixture.ts is out of date: regenerate it from tests/test_widget.py")


def test_importing_the_package_does_not_import_anywidget():
    code = ("import sys, zndraw_widget\nassert 'anywidget' not in sys.modules\n"
            "from zndraw_widget import Viewer\nassert 'anywidget' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_viewer_of_a_room_syncs_its_traits():
    if not BUNDLE.is_file():
        pytest.skip("the front end bundle is not built")
    from zndraw_widget import Viewer

    viewer = Viewer(room="abc")
    state = viewer.get_state()
    assert state["room"] == "abc" and state["step"] == 0 and state["selection"] == []
    assert state["api_url"] == ""  # inside Jupyter: the page's server
    assert "token" not in state
    assert "zndraw" in state["_esm"] and len(state["_esm"]) > 10_000
    assert Viewer("by-name").room == "by-name"
    with pytest.raises(TypeError, match="room="):
        Viewer()


def test_analysis_traits_sync_and_refuse_bad_values():
    if not BUNDLE.is_file():
        pytest.skip("the front end bundle is not built")
    import traitlets

    from zndraw_widget import Viewer

    viewer = Viewer(room="abc", color_by="calc.charges", repeat=(2, 2, 1))
    state = viewer.get_state()
    assert state["color_by"] == "calc.charges" and state["colormap"] == "viridis"
    assert list(state["repeat"]) == [2, 2, 1] and state["wrap"] is False
    assert state["color_range"] == [] and state["measurements"] == []
    viewer.measurements = [{"atoms": [0, 1]}, {"atoms": [0, 1, 2, 3]}]
    with pytest.raises(traitlets.TraitError, match="at least 1"):
        viewer.repeat = (0, 1, 1)
    with pytest.raises(traitlets.TraitError, match="at most 1000"):
        viewer.repeat = (20, 20, 20)
    viewer.measurements = [{"atoms": np.arange(3), "kind": "angle"}]  # plain ints kept
    assert viewer.measurements == [{"atoms": [0, 1, 2], "kind": "angle"}]
    with pytest.raises(traitlets.TraitError, match=r"measurements\[0\]\['atoms'\]: give 2 atoms "
                                                   r"\(a distance\), 3 .* not 1"):
        viewer.measurements = [{"atoms": [0]}]
    with pytest.raises(traitlets.TraitError, match=r"measurements\[1\]\['atoms'\]: -1 \(atom "
                                                   r"2 of the 2 given\) is no atom index"):
        viewer.measurements = [{"atoms": [0, 1]}, {"atoms": [0, -1]}]
    with pytest.raises(traitlets.TraitError, match=r"measurements\[1\]\['atoms'\]: True \(atom "
                                                   r"2 of the 2 given\) is no atom index"):
        viewer.measurements = [{"atoms": [0, 1]}, {"atoms": [0, True]}]  # numpy would take 1
    with pytest.raises(traitlets.TraitError, match="expected a dict"):  # the trait's type
        viewer.measurements = [[0, 1]]
    with pytest.raises(traitlets.TraitError):
        viewer.colormap = "jet"


def test_the_colormaps_offered_are_the_bundles():
    from zndraw_widget.widget import COLORMAPS

    text = (ROOT / "js" / "renderer" / "colormaps.ts").read_text()
    continuous = text.split("CONTINUOUS_MAPS")[1].split("};")[0]
    assert tuple(re.findall(r"^  (\w+):", continuous, re.M)) == COLORMAPS, (
        "js/renderer/colormaps.ts and Viewer.colormap disagree: rerun scripts/colormaps.py")


def test_plots_name_per_frame_fields():
    """``v.plots`` and ``v.plot_x`` are synced traits; a name that is no per-frame field
    is refused with what to write instead."""
    if not BUNDLE.is_file():
        pytest.skip("the front end bundle is not built")
    import traitlets

    from zndraw_widget import Viewer

    viewer = Viewer(room="abc")
    assert viewer.get_state()["plots"] == [] and viewer.plot_x == ""
    viewer.plots = ["calc.energy", "info.temperature"]
    viewer.plot_x = "info.temperature"
    assert viewer.get_state()["plots"] == ["calc.energy", "info.temperature"]
    for bad in (["energy"], ["positions"], ["calc.energy;drop"]):
        with pytest.raises(traitlets.TraitError, match="'calc.energy'"):
            viewer.plots = bad
    with pytest.raises(traitlets.TraitError, match="plot_x"):
        viewer.plot_x = "arrays.forces"


def test_viewer_of_frames_uploads_them_into_a_new_room(server, tmp_path):
    from zndraw_widget import Room, Viewer

    frames = make_atoms(5, natoms=7)
    viewer = Viewer(frames, url=server.base, token=server.token)
    assert viewer.room.startswith("viewer-")
    assert viewer.api_url == server.base
    # the token is no trait (it would be saved in the notebook): a view asks for it
    assert "token" not in viewer.get_state()
    sent = []
    viewer.send = sent.append
    viewer._handle_custom_msg({"type": "credentials"}, [])
    assert sent == [{"type": "credentials", "token": server.token}]
    room = Room(viewer.room, url=server.base, token=server.token, create=False)
    assert len(room) == 5 and room.info()["expires"] is not None  # ephemeral
    viewer.step = 3
    np.testing.assert_allclose(viewer.atoms.positions, frames[3].positions)
    np.testing.assert_allclose(room[3].positions, frames[3].positions)
    viewer.frames.append(frames[0])  # writes through the viewer's room
    assert len(room) == 6
    path = tmp_path / "trajectory.extxyz"
    ase.io.write(path, frames)
    from_file = Viewer(path, url=server.base, token=server.token)  # a Path: a file ase reads
    assert len(from_file.frames) == 5
    same = Viewer(room)  # a Room is shown as it is, from its own server
    assert same.room == viewer.room
    assert same.api_url == room.url


def test_ase_visualize_view_opens_a_viewer(server):
    """``ase.visualize.view(..., viewer="zndraw")`` through the installed entry point."""
    if not BUNDLE.is_file():
        pytest.skip("the front end bundle is not built")
    from ase.visualize import view

    from zndraw_widget import Room, Viewer

    frames = make_atoms(3, natoms=5)
    viewer = view(frames, viewer="zndraw", url=server.base, token=server.token)
    assert isinstance(viewer, Viewer)
    assert len(Room(viewer.room, url=server.base, token=server.token, create=False)) == 3
    repeated = view(frames[0], viewer="zndraw", repeat=(2, 1, 1), url=server.base,
                    token=server.token, room="ase-view-repeated")
    assert repeated.room == "ase-view-repeated" and len(repeated.frames[0]) == 10
    with pytest.raises(TypeError, match="data=None"):
        view(frames[0], viewer="zndraw", data=np.zeros((2, 2, 2)), url=server.base)
