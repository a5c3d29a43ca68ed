"""GET rooms/<room>/export: frames out in any format ase writes, equal to what went in."""

from __future__ import annotations

import io
import json

import ase.io
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixAtoms, FixBondLengths, FixCartesian, FixedLine

from zndraw_widget.export import STREAMED, export_format


def rich_frames(count: int, natoms: int = 5, seed: int = 0) -> list[ase.Atoms]:
    """Frames with what people keep: energies, forces, stress, info, per-atom arrays and
    constraints (FixAtoms and FixCartesian survive extxyz; more survive traj)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        atoms = ase.Atoms(numbers=rng.integers(1, 30, natoms),
                          positions=rng.random((natoms, 3)) * 8, cell=np.eye(3) * 8,
                          pbc=True)
        atoms.info.update({"step": i, "label": f"frame-{i}", "temperature": 300.5 + i})
        atoms.arrays["charges_in"] = rng.random(natoms)
        atoms.set_tags(np.arange(natoms))
        atoms.set_constraint([FixAtoms(indices=[0, 1 + i % (natoms - 2)]),
                              FixCartesian(natoms - 1, [True, False, True])])
        atoms.calc = SinglePointCalculator(atoms, energy=-10.0 - i,
                                           forces=rng.standard_normal((natoms, 3)),
                                           stress=rng.standard_normal(6))
        frames.append(atoms)
    return frames


def fixed(atoms: ase.Atoms) -> np.ndarray:
    """Which coordinates of which atoms the constraints fix (extxyz keeps FixAtoms and
    FixCartesian as one per-atom mask)."""
    mask = np.zeros((len(atoms), 3), dtype=bool)
    for constraint in atoms.constraints:
        if isinstance(constraint, FixAtoms):
            mask[constraint.index] = True
        else:
            mask[constraint.index] |= constraint.mask
    return mask


def assert_same(got: list[ase.Atoms], want: list[ase.Atoms], exact: bool = False) -> None:
    """Equal frames; ``exact``: the very same constraints (else the same fixed
    coordinates) and no per-atom arrays beyond ase's own (as traj keeps)."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.positions, b.positions, atol=1e-8)
        np.testing.assert_array_equal(a.numbers, b.numbers)
        np.testing.assert_allclose(a.cell.array, b.cell.array, atol=1e-8)
        np.testing.assert_array_equal(a.pbc, b.pbc)
        assert a.get_potential_energy() == pytest.approx(b.get_potential_energy())
        np.testing.assert_allclose(a.get_forces(apply_constraint=False),
                                   b.get_forces(apply_constraint=False), atol=1e-8)
        np.testing.assert_allclose(a.get_stress(), b.get_stress(), atol=1e-8)
        for key in ("step", "label", "temperature"):
            assert a.info[key] == b.info[key]
        np.testing.assert_array_equal(a.get_tags(), b.get_tags())
        if exact:
            assert [c.todict() for c in a.constraints] == [c.todict() for c in b.constraints]
        else:
            np.testing.assert_array_equal(fixed(a), fixed(b))
            np.testing.assert_allclose(a.arrays["charges_in"], b.arrays["charges_in"], atol=1e-7)


async def export(api, room: str, expect: int = 200, **params):
    response = await api.call("GET", f"rooms/{room}/export", params=params)
    assert response.code == expect, (response.code, response.body[:500])
    return response


async def test_extxyz_export_equals_the_input(api):
    frames = rich_frames(6)
    await api.create_room("ex")
    await api.extend("ex", frames)
    response = await export(api, "ex", format="extxyz")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Content-Disposition"] == 'attachment; filename="ex.xyz"'
    assert response.headers["X-ZnDraw-Frames"] == "6"
    got = ase.io.read(io.StringIO(response.body.decode()), ":", format="extxyz")
    assert_same(got, frames)

    response = await export(api, "ex", format="extxyz", index="1:5:2")
    got = ase.io.read(io.StringIO(response.body.decode()), ":", format="extxyz")
    assert_same(got, frames[1:5:2])


async def test_traj_and_h5md_keep_everything_ase_stores(api, tmp_path):
    frames = rich_frames(4)
    frames[1].set_constraint([FixedLine(2, [0, 0, 1]), FixBondLengths([[0, 1]])])
    for atoms in frames:  # traj keeps ase's own per-atom arrays only
        del atoms.arrays["charges_in"]
    await api.create_room("bin")
    await api.extend("bin", frames)
    response = await export(api, "bin", format="traj")
    assert response.headers["Content-Disposition"] == 'attachment; filename="bin.traj"'
    assert response.headers["Content-Type"] == "application/octet-stream"
    (tmp_path / "out.traj").write_bytes(response.body)
    assert_same(ase.io.read(tmp_path / "out.traj", ":"), frames, exact=True)

    response = await export(api, "bin", format="h5md", index="::-1")
    assert response.headers["Content-Disposition"] == 'attachment; filename="bin.h5"'
    (tmp_path / "out.h5").write_bytes(response.body)
    got = ase.io.read(tmp_path / "out.h5", ":", format="znh5md")
    np.testing.assert_allclose([a.get_potential_energy() for a in got],
                               [a.get_potential_energy() for a in frames[::-1]])
    np.testing.assert_allclose(got[0].get_forces(apply_constraint=False),
                               frames[-1].get_forces(apply_constraint=False))


async def test_formats_that_need_every_frame_and_single_frame_formats(api):
    frames = rich_frames(3)
    await api.create_room("pdb")
    await api.extend("pdb", frames)
    response = await export(api, "pdb", format="proteindatabank")
    got = ase.io.read(io.StringIO(response.body.decode()), ":", format="proteindatabank")
    assert len(got) == 3
    np.testing.assert_allclose(got[2].positions, frames[2].positions, atol=1e-3)

    error = json.loads((await export(api, "pdb", 400, format="vasp")).body)
    assert "holds one frame" in error["message"] and "index=" in error["message"]
    response = await export(api, "pdb", format="vasp", index="-1")
    assert response.headers["Content-Disposition"] == 'attachment; filename="pdb.poscar"'
    got = ase.io.read(io.StringIO(response.body.decode()), format="vasp")
    np.testing.assert_allclose(got.positions, frames[-1].positions, atol=1e-6)


async def test_bad_requests_name_the_problem(api):
    await api.create_room("bad")
    await api.extend("bad", rich_frames(2))
    for params, words in [({}, "missing query argument 'format'"),
                          ({"format": "nonsense"}, "cannot export format 'nonsense'"),
                          ({"format": "bundletrajectory"}, "cannot export format"),
                          ({"format": "extxyz", "index": "a:b"}, "invalid slice 'a:b'")]:
        response = await export(api, "bad", 400, **params)
        assert response.headers["Content-Type"] == "application/json"
        assert words in json.loads(response.body)["message"]
    assert json.loads((await export(api, "nope", 404, format="extxyz")).body)["error"]
    # ase's eon writer fails on FixCartesian: before anything was sent, so a 400
    error = json.loads((await export(api, "bad", 400, format="eon")).body)
    assert error["message"].startswith("ase cannot write these frames as 'eon'")
    refused = await api.call("GET", "rooms/bad/export", params={"format": "extxyz"},
                             headers={"Authorization": "token wrong"})
    assert refused.code in (401, 403) and not refused.body.startswith(b"Lattice")
    response = await export(api, "bad", 404, format="extxyz", index="7")
    assert json.loads(response.body)["error"] == "index_out_of_range"


async def test_an_empty_room_exports_an_empty_file(api):
    await api.create_room("empty")
    assert (await export(api, "empty", format="extxyz")).body == b""
    assert (await export(api, "empty", format="traj")).code == 200


def test_streamed_formats_write_as_ase_writes_a_file(tmp_path):
    """What makes a format ``stream``: its writer, given an iterator and a plain
    write-only stream, writes what it writes to a file."""
    from zndraw_widget.export import _Pieces

    frames = rich_frames(3)
    for atoms in frames:  # eon's writer fails on constraints other than FixAtoms
        atoms.set_constraint(FixAtoms([1]))
    for name in sorted(STREAMED):
        path = tmp_path / f"ref.{name}"
        ase.io.write(path, frames, format=name)
        pieces: list[bytes] = []
        with _Pieces(pieces.append) as out:
            ase.io.write(out, iter(frames), format=name)
        assert b"".join(pieces) == path.read_bytes(), name
        assert export_format(name).mode == "stream"
