"""The notebooks in ``notebooks/`` run top to bottom in a real kernel, against a real
standalone server (found through ``ZNDRAW_URL``, as a user's kernel would find it)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from zndraw_widget import Room

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
BUNDLE = NOTEBOOKS.parent / "src" / "zndraw_widget" / "static" / "widget.js"

pytestmark = [
    pytest.mark.usefixtures("no_ambient_server"),
    pytest.mark.skipif(not BUNDLE.is_file(), reason="the front end bundle is not built"),
    pytest.mark.timeout(300),
]


def run(name: str, server, monkeypatch, tmp_path) -> list[str]:
    """Execute notebook ``name``; the text of every cell's outputs, in order."""
    monkeypatch.setenv("ZNDRAW_URL", server.base)
    monkeypatch.setenv("ZNDRAW_TOKEN", server.token)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{name} is committed with outputs: clear them")
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + output.get("data", {}).get("text/plain", ""))
    return texts


def rooms(server) -> dict[str, dict]:
    """Every room of ``server``: name -> info."""
    reply = httpx.get(server.url + "rooms", params={"limit": 1000}, headers=server.headers)
    reply.raise_for_status()
    return {info["name"]: info for info in reply.json()["rooms"]}


def test_quickstart(server, monkeypatch, tmp_path):
    before = rooms(server)
    outputs = run("quickstart.ipynb", server, monkeypatch, tmp_path)
    assert "80" in outputs  # len(v.frames) after appending 20 frames to 60
    new = [info for name, info in rooms(server).items() if name not in before]
    assert [info["length"] for info in new] == [80]  # Viewer(frames) made one room


def test_collaboration(server, monkeypatch, tmp_path):
    outputs = run("collaboration.ipynb", server, monkeypatch, tmp_path)
    assert any(text.startswith("refused:") and "lock" in text.lower() for text in outputs)
    room = Room("water-together", url=server.base, token=server.token, create=False)
    try:
        assert len(room) == 42
        assert room.info()["step"] == 20  # room.step = 20: what every following view shows
        assert room[10].positions[0, 2] == pytest.approx(room[11].positions[0, 2] + 0.3, abs=0.1)
    finally:
        room.close()


def test_scripted_editing(server, monkeypatch, tmp_path):
    outputs = run("scripted_editing.ipynb", server, monkeypatch, tmp_path)
    assert any(text.startswith("refused:") for text in outputs)  # the conflict, caught
    room = Room("scripted-editing", url=server.base, token=server.token, create=False)
    try:
        assert len(room) == 6
        assert {len(atoms) for atoms in room} == {32}
    finally:
        room.close()
