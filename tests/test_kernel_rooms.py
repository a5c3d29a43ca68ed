"""A kernel that reaches no zndraw server at all (no extension, no ``ZNDRAW_URL``) keeps its
rooms itself: ``Viewer(frames)`` and ``Room`` work in a notebook run by nbclient, and the
views are told to use the comm."""

from __future__ import annotations

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

pytestmark = [pytest.mark.usefixtures("no_ambient_server"), pytest.mark.timeout(300)]

CELLS = [
    """\
import numpy as np, ase
from zndraw_widget import Room, Viewer
frames = [ase.Atoms("H2O", positions=np.eye(3) * (1 + i / 10)) for i in range(5)]
v = Viewer(frames)
print("transport", v.transport, v.frames.endpoint.local, v.frames.endpoint.api_url,
      len(v.snapshot) > 0)""",
    """\
r = Room(v.room)  # another Room object of this kernel sees the viewer's room
r.append(ase.Atoms("He"))
print("length", len(v.frames), len(r), r[-1].get_chemical_symbols())""",
    """\
named = Room("kept", create=True)
named.extend(frames[:2])
print("rooms", Viewer("kept").transport, len(Room("kept")))""",
    """\
import threading
replies, answered = [], threading.Event()
v._comm_transport._send = lambda c, b: (replies.append((c, b)), answered.set())  # the comm
v._comm_transport.handle({"type": "zndraw.http", "channel": "t", "id": 1, "method": "GET",
                          "path": f"rooms/{v.room}/frames?index=5", "headers": {}}, [])
answered.wait(10)  # the answer comes from the transport's thread
print("comm", replies[0][0]["status"], len(replies[0][1][0]) > 0)""",
    """\
page = v.save_html("view.html")
print("saved", page.stat().st_size > 100_000, "zndraw-frames" in page.read_text())""",
]


def test_viewer_and_room_without_any_server(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))  # no jpserver-*.json to find
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    _, comm, local, api_url, snapshot = out[0].split()
    assert (comm, local, snapshot) == ("comm", "True", "True")
    assert api_url.startswith("http://127.0.0.1:")
    assert out[1].split()[:3] == ["length", "6", "6"] and "He" in out[1]
    assert out[2].split() == ["rooms", "comm", "2"]
    assert out[3].split() == ["comm", "200", "True"]
    assert out[4].split() == ["saved", "True", "True"]
