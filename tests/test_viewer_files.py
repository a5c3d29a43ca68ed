"""``Viewer`` of one Atoms, of a file (streamed), of a name; failed uploads leave no room."""

from __future__ import annotations

from pathlib import Path

import ase.io
import httpx
import numpy as np
import pytest

from zndraw_widget import Room
from zndraw_widget.client import files

from .conftest import make_atoms
from .server.test_export import assert_same, rich_frames

BUNDLE = Path(__file__).resolve().parents[1] / "src" / "zndraw_widget" / "static" / "widget.js"

pytestmark = [pytest.mark.usefixtures("no_ambient_server"),
              pytest.mark.skipif(not BUNDLE.is_file(), reason="the front end bundle is not built")]


def room_names(server) -> set[str]:
    response = httpx.get(server.url + "rooms", headers=server.headers, params={"limit": 1000})
    return {room["name"] for room in response.json()["rooms"]}


def test_viewer_of_one_atoms_shows_it(server):
    from zndraw_widget import Viewer

    atoms = rich_frames(1)[0]
    viewer = Viewer(atoms, url=server.base, token=server.token)
    assert len(viewer.frames) == 1
    assert_same([viewer.atoms], [atoms], exact=True)


def test_viewer_of_a_file_path_or_name_streams_it(server, tmp_path, monkeypatch):
    from zndraw_widget import Viewer

    frames = rich_frames(6)
    ase.io.write(tmp_path / "run.xyz", frames)
    by_path = Viewer(tmp_path / "run.xyz", url=server.base, token=server.token)
    assert_same(by_path.frames[:], frames)
    monkeypatch.chdir(tmp_path)
    by_name = Viewer("run.xyz", url=server.base, token=server.token, room="from-file")
    assert by_name.room == "from-file"
    assert_same(by_name.frames[:], frames)


def test_upload_file_sends_batches_while_it_reads(server, tmp_path, monkeypatch):
    """The file is read lazily: the first batches are in the room before the last frame
    is read."""
    ase.io.write(tmp_path / "run.xyz", make_atoms(40, natoms=50))
    room = Room("streamed", url=server.base, token=server.token, create=True,
                batch_bytes=4000)  # a few frames per request
    seen_when_last_read = []
    real = files.iter_atoms

    def spying(*args, **kwargs):
        for index, atoms in enumerate(real(*args, **kwargs)):
            if index == 39:
                seen_when_last_read.append(len(Room("streamed", url=server.base,
                                                    token=server.token)))
            yield atoms

    monkeypatch.setattr(files, "iter_atoms", spying)
    written = []
    files.upload_file(room, tmp_path / "run.xyz", on_written=written.append)
    assert len(room) == 40
    assert 0 < seen_when_last_read[0] < 40
    assert written == sorted(written) and written[-1] == 40 and len(written) > 2


def test_names_that_are_neither_files_nor_rooms_are_errors(tmp_path, monkeypatch):
    from zndraw_widget import Viewer

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no such file: 'missing.xyz'.*room='missing"):
        Viewer("missing.xyz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        Viewer(tmp_path / "missing")
    with pytest.raises(ValueError, match="neither an existing file .* nor a valid room name"):
        Viewer("no room/name?")
    assert Viewer("plain-room").room == "plain-room"  # no file of that name: a room


def test_a_failed_upload_leaves_no_room_behind(server, tmp_path):
    from zndraw_widget import Viewer

    before = room_names(server)
    with pytest.raises(TypeError, match="not str"):
        Viewer([make_atoms(1)[0], "not atoms"], url=server.base, token=server.token)
    (tmp_path / "broken.xyz").write_text("2\n\nH 0 0 0\nH 0 0 1\n3\n\nH 0 0 x\n")
    with pytest.raises(ValueError):
        Viewer(tmp_path / "broken.xyz", url=server.base, token=server.token)
    with pytest.raises(ValueError):
        Viewer(tmp_path / "broken.xyz", url=server.base, token=server.token, room="named")
    assert room_names(server) == before
    existing = Room("kept", url=server.base, token=server.token, create=True)
    existing.extend(make_atoms(2))
    with pytest.raises(ValueError):
        Viewer(tmp_path / "broken.xyz", url=server.base, token=server.token, room="kept")
    assert len(existing) == 2 and "kept" in room_names(server)  # not ours to delete


def test_viewer_of_a_topology_and_trajectory(server, tmp_path):
    mda = pytest.importorskip("MDAnalysis")
    from zndraw_widget import Viewer

    frames = make_atoms(3, natoms=4)
    for atoms in frames:
        atoms.numbers = [8, 1, 1, 6]
    ase.io.write(tmp_path / "top.pdb", frames[0])
    universe = mda.Universe(str(tmp_path / "top.pdb"))
    with mda.Writer(str(tmp_path / "run.dcd"), n_atoms=4) as writer:
        for atoms in frames:
            universe.atoms.positions = atoms.positions
            writer.write(universe)
    viewer = Viewer(tmp_path / "run.dcd", topology=tmp_path / "top.pdb", url=server.base,
                    token=server.token)
    got = viewer.frames[:]
    assert len(got) == 3 and list(got[2].numbers) == [8, 1, 1, 6]
    np.testing.assert_allclose(got[2].positions, frames[2].positions, atol=1e-5)
