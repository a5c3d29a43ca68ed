"""``ase.visualize.view(..., viewer="zndraw")``: the adapter, and its entry point as declared in
pyproject.toml and as a built wheel installs it (the installed dist's own entry point is
exercised in test_widget.py)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ase.utils.plugins import ExternalViewer
from ase.visualize.viewers import PyViewer

from zndraw_widget.ase_viewer import view_zndraw

from .conftest import make_atoms

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "src" / "zndraw_widget" / "static" / "widget.js"
GROUP, NAME, VALUE = "ase.visualize", "zndraw", "zndraw_widget.ase_viewer:VIEWER_ENTRYPOINT"


def check_viewer_entry_point(entry_point: importlib.metadata.EntryPoint) -> None:
    """What ``ase.visualize.viewers.define_external_viewer`` needs of an entry point."""
    assert (entry_point.group, entry_point.name, entry_point.value) == (GROUP, NAME, VALUE)
    definition = entry_point.load()
    assert isinstance(definition, ExternalViewer) and not definition.cli
    viewer = PyViewer(entry_point.name, definition.desc, definition.module)
    assert viewer._viewfunc() is view_zndraw  # ase calls module.view_<name>(atoms, **kwargs)


def test_pyproject_declares_the_entry_point_in_the_form_ase_expects():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"][GROUP]
    assert declared == {NAME: VALUE}
    check_viewer_entry_point(importlib.metadata.EntryPoint(NAME, declared[NAME], GROUP))


@pytest.mark.timeout(120)
def test_a_wheel_of_the_source_registers_the_viewer(tmp_path):
    """Build a wheel offline (no build isolation, no index), install it into a target dir:
    importlib.metadata finds the entry point there."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed (needed to build without isolation)")
    if not BUNDLE.is_file():
        pytest.skip("the front end bundle is not built")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    env = {**os.environ, "ZNDRAW_SKIP_JS_BUILD": "1", "PIP_NO_INDEX": "1"}
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, env=env, timeout=100)
    wheel, = (tmp_path / "dist").glob("zndraw_widget-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp_path / "site"),
                    str(wheel)], check=True, env=env, timeout=100)
    dist, = importlib.metadata.distributions(path=[str(tmp_path / "site")])
    found = [ep for ep in dist.entry_points if ep.group == GROUP]
    assert len(found) == 1
    check_viewer_entry_point(found[0])


def test_view_zndraw_uploads_the_frames_into_a_viewer(server, no_ambient_server):
    if not BUNDLE.is_file():
        pytest.skip("the front end bundle is not built")
    frames = make_atoms(4, natoms=3)
    viewer = view_zndraw(frames, url=server.base, token=server.token, room="ase-adapter")
    assert viewer.room == "ase-adapter" and len(viewer.frames) == 4
    assert viewer.frames[2].positions == pytest.approx(frames[2].positions)
    single = view_zndraw(frames[0], url=server.base, token=server.token)  # one Atoms: one frame
    assert single.room != viewer.room and len(single.frames) == 1
    viewer.frames.close()
    single.frames.close()
