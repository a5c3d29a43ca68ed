"""``room.export``: a room's frames as a file, through a real server process."""

from __future__ import annotations

import io

import ase.io
import numpy as np
import pytest

from zndraw_widget import Room
from zndraw_widget.errors import BadRequest, PayloadTooLarge

from ..conftest import ServerProcess, make_atoms
from ..server.test_export import assert_same, rich_frames


def test_export_to_a_path_or_a_file_equals_the_input(connect, tmp_path):
    room = connect()
    frames = rich_frames(5)
    room.extend(frames)
    assert room.export(tmp_path / "all.xyz") == 5
    assert_same(ase.io.read(tmp_path / "all.xyz", ":"), frames)
    assert room.export(str(tmp_path / "some.traj"), index=slice(1, None, 2)) == 2
    got = ase.io.read(tmp_path / "some.traj", ":")
    assert [a.info["step"] for a in got] == [1, 3]

    text = io.StringIO()
    room.export(text, format="extxyz", index=[4, 0], progress=True)
    assert_same(ase.io.read(io.StringIO(text.getvalue()), ":", format="extxyz"),
                [frames[4], frames[0]])
    binary = io.BytesIO()
    assert room.export(binary, format="xyz", index=-1) == 1
    assert binary.getvalue().startswith(b"5\n")


def test_reads_keep_calc_results_info_arrays_and_every_constraint(connect):
    from ase.constraints import FixBondLengths, FixedLine, FixedPlane

    frames = rich_frames(3)
    frames[1].set_constraint([FixedLine(2, [0, 0, 1]), FixedPlane(3, [1, 0, 0]),
                              FixBondLengths([[0, 1]])])
    frames[2].set_constraint()
    room = connect()
    room.extend(frames)
    got = room[:]
    assert_same(got, frames, exact=True)
    np.testing.assert_allclose(got[0].arrays["charges_in"], frames[0].arrays["charges_in"])
    room[2] = frames[1]  # a replacement keeps them too
    assert_same([room[2]], [frames[1]], exact=True)


def test_frames_of_different_sizes_export_each_with_its_own_atoms(connect, tmp_path):
    frames = make_atoms(2, natoms=3) + make_atoms(2, natoms=7, seed=2)
    room = connect()
    room.extend(frames)
    room.export(tmp_path / "mixed.xyz")
    got = ase.io.read(tmp_path / "mixed.xyz", ":")
    assert [len(a) for a in got] == [3, 3, 7, 7]
    np.testing.assert_allclose(got[2].positions, frames[2].positions)


def test_bad_exports_say_what_to_do_and_leave_no_file(connect, tmp_path):
    room = connect()
    room.extend(rich_frames(2))
    with pytest.raises(ValueError, match="cannot tell the format of 'out.unknownsuffix'"):
        room.export(tmp_path / "out.unknownsuffix")  # told before asking the server
    assert not (tmp_path / "out.unknownsuffix").exists()
    with pytest.raises(ValueError, match="pass format="):
        room.export(io.BytesIO())
    with pytest.raises(BadRequest, match="holds one frame"):
        room.export(tmp_path / "POSCAR", format="vasp")
    assert not (tmp_path / "POSCAR").exists()
    with pytest.raises(IndexError):
        room.export(tmp_path / "x.xyz", index=9)
    assert not (tmp_path / "x.xyz").exists()


def test_streamed_exports_have_no_size_limit(tmp_path, no_ambient_server):
    """With max_response_mb = 1 a 3 MB room still exports as extxyz (streamed, chunk by
    chunk), while traj (written whole) is refused with 413 naming the way out."""
    server = ServerProcess(tmp_path / "storage", "--max-response-mb", "1")
    try:
        room = Room("big", url=server.base, token=server.token, create=True)
        rng = np.random.default_rng(1)
        frames = [ase.Atoms(numbers=np.full(2000, 6), positions=rng.random((2000, 3)) * 30)
                  for _ in range(8)]  # 8 x 48 KB of positions, twice that with numbers
        for i, atoms in enumerate(frames):
            atoms.info["i"] = i
        room.extend(frames * 4)  # 32 frames, about 3 MB of frame data
        with pytest.raises(PayloadTooLarge, match="streamed format"):
            room.export(tmp_path / "big.traj")
        assert room.export(tmp_path / "big.xyz") == 32
        got = ase.io.read(tmp_path / "big.xyz", ":")
        assert [a.info["i"] for a in got] == list(range(8)) * 4
        np.testing.assert_allclose(got[-1].positions, frames[-1].positions, atol=1e-7)
        room.close()
    finally:
        server.stop()


def test_abandoned_exports_stop_their_writers(connect, server):
    """Receivers that go away mid-export free the writer threads (there are 4): after more
    abandoned exports than that, a whole export still goes through."""
    import httpx

    from zndraw_widget.server.export import EXPORTS

    room = connect()
    rng = np.random.default_rng(3)
    frames = [ase.Atoms(numbers=np.full(500, 8), positions=rng.random((500, 3)) * 20)
              for _ in range(20)]
    room.extend(frames * 25)  # 500 frames, about 20 MB of extxyz: more than is in flight
    url = f"{server.url}rooms/{room.name}/export"
    for _ in range(EXPORTS._max_workers + 2):
        with httpx.stream("GET", url, params={"format": "extxyz"}, headers=server.headers,
                          timeout=60) as response:
            assert response.status_code == 200
            next(response.iter_raw())  # the first piece, then the connection closes
    assert room.export(io.BytesIO(), format="extxyz") == 500
