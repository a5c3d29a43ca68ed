"""``formats.iter_atoms``: every way a trajectory file is opened (ase, H5MD, MDAnalysis)."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest

from zndraw_widget import formats
from zndraw_widget.formats import FormatError, iter_atoms, resolve_format

from .conftest import make_atoms


def water_frames(count: int) -> list[ase.Atoms]:
    from ase.build import molecule

    frames = []
    for i in range(count):
        atoms = molecule("H2O")
        atoms.positions += 0.1 * i
        atoms.cell, atoms.pbc = [10.0, 11.0, 12.0], True
        frames.append(atoms)
    return frames


def test_ase_formats_are_read_one_frame_at_a_time(tmp_path):
    frames = make_atoms(4, natoms=3)
    ase.io.write(tmp_path / "t.xyz", frames)
    read = iter_atoms(tmp_path / "t.xyz")
    assert not isinstance(read, list)
    got = list(read)
    assert [a.info["step"] for a in got] == [0, 1, 2, 3]
    ase.io.write(tmp_path / "t.traj", frames)
    got = list(iter_atoms(str(tmp_path / "t.traj"), format="traj"))
    np.testing.assert_allclose(got[3].positions, frames[3].positions)


@pytest.mark.parametrize("name", ["t.h5", "t.h5md"])
def test_h5md_through_znh5md(tmp_path, name):
    frames = water_frames(3)
    ase.io.write(tmp_path / "t.h5", frames, format="znh5md")
    if name != "t.h5":
        (tmp_path / "t.h5").rename(tmp_path / name)
    got = list(iter_atoms(tmp_path / name))
    assert len(got) == 3
    np.testing.assert_allclose(got[2].positions, frames[2].positions)
    assert list(got[0].symbols) == ["O", "H", "H"]


@pytest.mark.parametrize("topology_suffix,trajectory_suffix",
                         [("pdb", "dcd"), ("pdb", "xtc"), ("gro", "trr")])
def test_mdanalysis_topology_with_trajectory(tmp_path, topology_suffix, trajectory_suffix):
    mda = pytest.importorskip("MDAnalysis")
    frames = water_frames(4)
    topology = tmp_path / f"top.{topology_suffix}"
    ase.io.write(topology, frames[0])
    universe = mda.Universe(str(topology))
    trajectory = tmp_path / f"run.{trajectory_suffix}"
    with mda.Writer(str(trajectory), n_atoms=3) as writer:
        for atoms in frames:
            universe.atoms.positions = atoms.positions
            universe.dimensions = [10, 11, 12, 90, 90, 90]
            writer.write(universe)
    got = list(iter_atoms(trajectory, topology=topology))
    assert len(got) == 4
    assert list(got[0].symbols) == ["O", "H", "H"]  # elements (guessed from names for GRO)
    tolerance = 2e-3 if trajectory_suffix == "xtc" else 1e-5  # xtc keeps 3 decimals of nm
    np.testing.assert_allclose(got[3].positions, frames[3].positions, atol=tolerance)
    np.testing.assert_allclose(got[3].cell.cellpar(), [10, 11, 12, 90, 90, 90], atol=1e-4)
    assert got[3].pbc.all()


PSF = """PSF

       1 !NTITLE
 REMARKS one water

       3 !NATOM
       1 W        1        TIP3     OH2      OT      -0.834000       15.9994           0
       2 W        1        TIP3     H1       HT       0.417000        1.0080           0
       3 W        1        TIP3     H2       HT       0.417000        1.0080           0

       0 !NBOND: bonds

"""


def test_psf_topology_with_dcd(tmp_path):
    """A PSF names no elements: they are guessed from the atom names."""
    mda = pytest.importorskip("MDAnalysis")
    (tmp_path / "water.psf").write_text(PSF)
    frames = water_frames(2)
    universe = mda.Universe(str(tmp_path / "water.psf"))
    with mda.Writer(str(tmp_path / "run.dcd"), n_atoms=3) as writer:
        for atoms in frames:
            universe.load_new(atoms.positions[None].astype("float32"))
            writer.write(universe)
    got = list(iter_atoms(tmp_path / "run.dcd", topology=tmp_path / "water.psf"))
    assert [list(a.symbols) for a in got] == [["O", "H", "H"]] * 2
    np.testing.assert_allclose(got[1].positions, frames[1].positions, atol=1e-5)


def test_files_that_cannot_be_read_say_why(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        iter_atoms(tmp_path / "missing.xyz")
    (tmp_path / "run.dcd").write_bytes(b"\0" * 16)
    with pytest.raises(ValueError, match="give its topology"):
        iter_atoms(tmp_path / "run.dcd")
    (tmp_path / "notes.qqq").write_text("hello")
    with pytest.raises(ValueError, match="pass an ase format name"):
        iter_atoms(tmp_path / "notes.qqq")
    with pytest.raises(FileNotFoundError, match="topology"):
        iter_atoms(tmp_path / "run.dcd", topology=tmp_path / "missing.pdb")


@pytest.mark.parametrize("name, given, write, expected", [
    ("x.h5md", None, False, "znh5md"), ("x.h5", None, True, "znh5md"),
    ("run.xyz", "H5MD", False, "znh5md"), ("md.extxyz", None, False, "extxyz"),
    ("md.traj", None, True, "traj"), (None, "proteindatabank", True, "proteindatabank")])
def test_one_function_decides_a_files_format(name, given, write, expected):
    """Uploads, ``iter_atoms`` and exports all ask :func:`resolve_format`: H5MD is znh5md."""
    assert resolve_format(name, given, write=write) == expected


def test_a_format_that_cannot_be_decided_says_which(tmp_path):
    with pytest.raises(FormatError, match="cannot tell the format of 'notes.qqq'"):
        resolve_format(tmp_path / "notes.qqq")
    with pytest.raises(FormatError, match="ase writes no format 'nope'") as raised:
        resolve_format("x.xyz", "nope", write=True)
    assert "extxyz" in raised.value.known
    # told by the name, but ase does not read it (an image)
    with pytest.raises(FormatError, match=r"ase reads no format 'png' \(the format of 'plot.png'\)"):
        resolve_format("plot.png")


def test_the_callers_hint_ends_the_message(tmp_path):
    with pytest.raises(FormatError, match=r"format of 'notes.qqq' from its name: name one$"):
        resolve_format(tmp_path / "notes.qqq", hint="name one")
    with pytest.raises(FormatError, match=r"ase writes no format 'nope': name one$"):
        resolve_format("x.xyz", "nope", write=True, hint="name one")


def test_known_formats_are_listed_once(monkeypatch):
    formats._known.cache_clear()
    asked = []
    real = formats.can
    monkeypatch.setattr(formats, "can", lambda io, purpose: asked.append(io) or real(io, purpose))
    first = FormatError("x", write=True).known
    listing = len(asked)
    assert "extxyz" in first and listing > 0
    assert FormatError("y", write=True).known == first and len(asked) == listing
    assert FormatError("z").known != first  # reading: another list


def test_a_capability_ase_cannot_tell_is_none():
    from ase.io.formats import ioformats

    assert formats.can(ioformats["extxyz"], "write") and formats.can(ioformats["znh5md"], "append")
    # the mol writer is a partial: ase's append check raises AttributeError on it
    assert not formats.can(ioformats["mol"], "append")
