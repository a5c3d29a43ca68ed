"""Trajectory file formats: :func:`resolve_format` decides which ase format reads or writes
a file (for ``iter_atoms``, uploads and exports alike), and :func:`iter_atoms` turns a path
into ``ase.Atoms``.

Everything ``ase.io`` reads is read with ``ase.io.iread`` (one frame at a time), H5MD with
znh5md (registered with ase as the ``znh5md`` format), and, with the optional ``md`` extra
(``pip install zndraw-widget[md]``), what MDAnalysis reads: a topology (PDB, PSF, GRO, ...)
with a trajectory (DCD, XTC, TRR, ...).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import ase
    from ase.io.formats import IOFormat

#: Format names (and file suffixes) that mean H5MD, read and written by znh5md.
H5MD_NAMES = frozenset({"h5md", "h5", "znh5md"})
#: Trajectory suffixes that carry no elements: they need a topology (MDAnalysis).
NEEDS_TOPOLOGY = frozenset({"dcd", "xtc", "trr", "nc", "ncdf", "xyz-md"})
MD_EXTRA = "pip install 'zndraw-widget[md]'"


class FormatError(ValueError):
    """ase has no format ``format`` for reading (``write``: writing), or the file name
    ``name`` tells none; the message says which, and how the caller names a format."""

    def __init__(self, message: str, format: str | None = None, name: str | None = None,
                 write: bool = False) -> None:
        super().__init__(message)
        self.format, self.name, self.write = format, name, write

    @property
    def known(self) -> list[str]:
        """The formats ase has for the purpose (listed once per process: slow)."""
        return list(_known("write" if self.write else "read"))


@cache
def _known(purpose: Literal["read", "write"]) -> tuple[str, ...]:
    from ase.io.formats import ioformats

    return tuple(sorted(n for n, f in ioformats.items() if can(f, purpose)))


def resolve_format(name: str | os.PathLike[str] | None, given: str | None = None, *,
                   write: bool = False, sniff: bool = False, hint: str = "") -> str:
    """The name of the :func:`ase_format` for these arguments."""
    return ase_format(name, given, write=write, sniff=sniff, hint=hint).name


def ase_format(name: str | os.PathLike[str] | None, given: str | None = None, *,
               write: bool = False, sniff: bool = False, hint: str = "") -> IOFormat:
    """The ase format that reads (``write``: writes) the file ``name``: ``given`` if given,
    else the one its name tells (with ``sniff``, ase may look into the existing file too);
    H5MD (the names and suffixes in :data:`H5MD_NAMES`) is always ``znh5md``. The one place
    a file's format is decided: uploads, ``iter_atoms`` and exports use it.
    Raises :class:`FormatError` if ase has no such format or the name tells none, its
    message ending in ``hint`` (how the caller names a format)."""
    from ase.io.formats import filetype, ioformats

    label = None if name is None else Path(name).name
    chosen = given or (Path(name).suffix.lstrip(".") if name is not None else None)
    if chosen and chosen.lower() in H5MD_NAMES:
        chosen = "znh5md"
    elif not given and name is not None:
        try:
            chosen = filetype(os.fspath(name), read=sniff and Path(name).is_file())
        except Exception:  # noqa: BLE001 (ase raises several kinds for a name it cannot place)
            chosen = None
    io = ioformats.get(chosen) if chosen else None
    if io is not None and can(io, "write" if write else "read"):
        return io
    hint = f": {hint}" if hint else ""
    if given or io is not None:  # named, or told by the name, but not one ase can use
        told = "" if given else f" (the format of {label!r})"
        raise FormatError(f"ase {'writes' if write else 'reads'} no format "
                          f"{given or chosen!r}{told}{hint}",
                          format=given or chosen, name=label, write=write)
    raise FormatError(f"cannot tell the format of {label!r} from its name{hint}", name=label)


def can(io: IOFormat, purpose: Literal["read", "write", "append"]) -> bool:
    """Whether ase's format ``io`` reads, writes or appends to files here."""
    try:
        return bool(getattr(io, f"can_{purpose}"))
    # a reader or writer needing a module not installed; ase's append check on a partial
    except (ImportError, AttributeError):
        return False


def iter_atoms(path: str | os.PathLike[str], format: str | None = None,
               topology: str | os.PathLike[str] | None = None) -> Iterator[ase.Atoms]:
    """The frames of the file at ``path``, one ``ase.Atoms`` at a time.

    ``format`` is an ase format name (None: guessed from the name and content; ``h5md``
    for H5MD). With a ``topology`` (or a DCD/XTC/TRR ``path``, which then needs one) the
    files are read with MDAnalysis (the ``md`` extra): positions, elements (guessed from
    atom names where the topology has none) and the cell from the box dimensions.
    Raises ``FileNotFoundError`` or ``ValueError`` saying what is wrong before the first
    frame is yielded.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    suffix = path.suffix.lstrip(".").lower()
    if topology is not None or (format is None and suffix in NEEDS_TOPOLOGY):
        if topology is None:
            raise ValueError(
                f"{path.name!r} holds coordinates only: give its topology (a PDB, PSF or GRO "
                "file with the atoms), e.g. iter_atoms(path, topology='top.pdb')")
        return _iter_mdanalysis(Path(topology), path, format)
    return _iter_ase(path, format)


def _iter_ase(path: Path, format: str | None) -> Iterator[ase.Atoms]:
    import ase.io

    name = resolve_format(path, format, sniff=True,
                          hint="pass an ase format name (format=) such as 'extxyz', 'traj', "
                               "'proteindatabank' or 'h5md'")
    return ase.io.iread(str(path), index=":", format=name)


def _iter_mdanalysis(topology: Path, trajectory: Path, format: str | None
                     ) -> Iterator[ase.Atoms]:
    try:
        import MDAnalysis
    except ImportError:
        raise ImportError(f"reading {trajectory.name!r} with a topology needs MDAnalysis: "
                          f"{MD_EXTRA}") from None
    if not topology.exists():
        raise FileNotFoundError(f"no such topology file: {str(topology)!r}")
    try:
        universe = MDAnalysis.Universe(str(topology), str(trajectory), format=format)
    except (ValueError, TypeError, OSError) as error:
        raise ValueError(f"MDAnalysis cannot read {trajectory.name!r} with topology "
                         f"{topology.name!r}: {error}") from None
    return _frames_of(universe)


def _frames_of(universe: object) -> Iterator[ase.Atoms]:
    from ase import Atoms
    from ase.geometry import cellpar_to_cell

    atoms = universe.atoms  # type: ignore[attr-defined]
    numbers = _atomic_numbers(universe)
    for timestep in universe.trajectory:  # type: ignore[attr-defined]
        dimensions = timestep.dimensions
        has_box = dimensions is not None and bool(np.all(dimensions[:3] > 0))
        yield Atoms(numbers=numbers, positions=np.asarray(atoms.positions, dtype=np.float64),
                    cell=cellpar_to_cell(dimensions) if has_box else None, pbc=has_box)


def _atomic_numbers(universe: object) -> np.ndarray:
    """Atomic numbers from the topology's elements, or elements guessed from atom names;
    0 (ase's dummy ``X``) where neither tells."""
    from ase.data import atomic_numbers

    atoms = universe.atoms  # type: ignore[attr-defined]
    if not hasattr(atoms, "elements") or not np.all(atoms.elements != ""):
        universe.guess_TopologyAttrs(to_guess=["elements"], force_guess=["elements"])  # type: ignore[attr-defined]
    symbols, inverse = np.unique(np.asarray(atoms.elements, dtype=str), return_inverse=True)
    table = np.array([atomic_numbers.get(s.capitalize(), 0) for s in symbols], dtype=np.int64)
    return table[inverse.reshape(-1)]
