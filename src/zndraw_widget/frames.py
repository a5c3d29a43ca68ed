"""The frame model: batches of frames stored column by column.

A frame is a mapping of named fields: ``positions`` (N, 3), ``numbers`` (N,), ``cell``
(3, 3), ``pbc`` (3,), and ``arrays.<name>``, ``info.<name>``, ``calc.<name>`` and
``constraints`` (ase's ``todict()`` of each, a list of ``{"name", "kwargs"}`` maps) for the
rest of what ``ase.Atoms`` carries. A :class:`FrameBatch` holds B frames as one :class:`Column` per
field: numeric values stacked into one array padded to the largest frame, with each frame's
own shape beside it, or a list of plain values for anything that is not numeric.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgpack
import numpy as np

from .codec import ALLOWED_DTYPES
from .collection import paused_gc
from .columns import ABSENT, Column, concat, stack
from .errors import BadRequest

if TYPE_CHECKING:
    import ase

Frame = dict[str, Any]

FIELD_NAME = re.compile(r"^(positions|numbers|cell|pbc|constraints|(arrays|info|calc)\.[A-Za-z0-9_\-.:+]{1,100})$")
PER_ATOM_CALC = frozenset({"forces", "charges", "magmoms", "energies", "stresses", "dipoles"})
MIN_FRAME_BYTES = 8
"""The values a batch of several frames carries per frame at least (an atom's position, a
cell): a batch cannot declare more frames than the bytes it sent pay for."""


class FrameBatch:
    """B frames, one :class:`Column` per field."""

    def __init__(self, columns: Mapping[str, Column], size: int) -> None:
        self.columns = dict(columns)
        self.size = size

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """The bytes of the numeric values (objects not counted)."""
        return sum(c.values.nbytes for c in self.columns.values() if c.values is not None)

    def _check_size(self) -> None:
        """Refuse a batch declaring more frames than its values pay for (``MIN_FRAME_BYTES``
        each; an object counts as one byte), before anything is made per frame."""
        carried = self.nbytes + sum(
            len(c.objects) for c in self.columns.values() if c.objects is not None)
        if self.size > 1 and carried < MIN_FRAME_BYTES * self.size:
            raise BadRequest(
                f"the batch declares {self.size} frames but carries only {carried} bytes of "
                f"values: each frame needs at least {MIN_FRAME_BYTES} (e.g. one atom)",
                frames=self.size, value_bytes=carried)

    # -- building -------------------------------------------------------------------------
    @classmethod
    def from_frames(cls, frames: Sequence[Mapping[str, Any]]) -> FrameBatch:
        """Stack frame mappings (field name -> value) into columns."""
        names: dict[str, None] = {}
        for frame in frames:
            if not isinstance(frame, Mapping):
                raise BadRequest(f"a frame must be a mapping of fields, not {type(frame).__name__}")
            names.update(dict.fromkeys(frame))
        columns = {
            name: stack([frame.get(name, ABSENT) for frame in frames]) for name in names
        }
        return cls(columns, len(frames))

    @classmethod
    def from_atoms(cls, atoms_list: Iterable[ase.Atoms]) -> FrameBatch:
        return cls.from_frames([atoms_to_frame(atoms) for atoms in atoms_list])

    @classmethod
    def from_wire(cls, message: Any, validate: bool = True) -> FrameBatch:
        """Build a batch from a decoded ``{"data": {field: column}}`` message, validated
        unless ``validate`` is False (a partial update is validated once merged)."""
        if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
            raise BadRequest("the body must be a map with a 'data' map of fields")
        columns = {}
        for name, wire in message["data"].items():
            if not isinstance(name, str) or not FIELD_NAME.match(name):
                raise BadRequest(
                    f"invalid field name {name!r}: use positions, numbers, cell, pbc or "
                    "arrays.<name>, info.<name>, calc.<name>"
                )
            columns[name] = Column.from_wire(name, wire)
        sizes = {len(column) for column in columns.values()}
        if len(sizes) > 1:
            raise BadRequest(f"fields disagree on the number of frames: {sorted(sizes)}")
        batch = cls(columns, sizes.pop() if sizes else 0)
        if validate:
            batch.validate()
        return batch

    def to_wire(self) -> dict[str, Any]:
        return {"data": {name: column.to_wire() for name, column in self.columns.items()}}

    # -- access ---------------------------------------------------------------------------
    def frame(self, row: int) -> Frame:
        """One frame as a mapping of field name to value (numpy views, no copies)."""
        frame = {}
        for name, column in self.columns.items():
            if column.has(row):
                frame[name] = column.get(row)
        return frame

    def frames(self) -> list[Frame]:
        """Every frame, as :meth:`frame` gives it (built column by column)."""
        frames: list[Frame] = [{} for _ in range(self.size)]
        for name, column in self.columns.items():
            for frame, value in zip(frames, column.rows()):
                if value is not ABSENT:
                    frame[name] = value
        return frames

    def take(self, rows: Sequence[int] | np.ndarray | slice) -> FrameBatch:
        """The frames at ``rows`` (a slice gives views of this batch's arrays)."""
        if isinstance(rows, slice):
            size = len(range(*rows.indices(self.size)))
        else:
            rows = np.asarray(rows, dtype=np.int64)
            size = len(rows)
        return FrameBatch({n: c.take(rows) for n, c in self.columns.items()}, size)

    def copy(self) -> FrameBatch:
        """A copy sharing nothing with this batch."""
        return FrameBatch({n: c.copy() for n, c in self.columns.items()}, self.size)

    def select(self, fields: Iterable[str]) -> FrameBatch:
        return FrameBatch({n: self.columns[n] for n in fields if n in self.columns}, self.size)

    def to_atoms(self) -> list[ase.Atoms]:
        """Every frame as a new ``ase.Atoms`` (sharing nothing with the batch)."""
        rows = {name: column.rows() for name, column in self.columns.items()}
        with paused_gc():  # objects that all live on: a collection would find nothing
            return _atoms_of(rows, self.size)

    @staticmethod
    def concat(batches: Sequence[FrameBatch]) -> FrameBatch:
        """One batch of all frames of ``batches``, in order."""
        if len(batches) == 1:
            return batches[0]
        names = dict.fromkeys(name for batch in batches for name in batch.columns)
        lengths = [len(b) for b in batches]
        columns = {name: concat(name, [b.columns.get(name) for b in batches], lengths)
                   for name in names}
        return FrameBatch(columns, sum(len(b) for b in batches))

    # -- checks ---------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`BadRequest` naming the first problem with these frames."""
        self._check_size()
        positions = self.columns.get("positions")
        numbers = self.columns.get("numbers")
        if self.size == 0:
            return
        if positions is None or numbers is None:
            raise BadRequest("every frame needs 'positions' and 'numbers'")
        for name, column in self.columns.items():
            if column.values is not None and column.values.dtype.str not in ALLOWED_DTYPES:
                raise BadRequest(f"field {name!r}: dtype {column.values.dtype} is not accepted")
        for name in ("positions", "numbers"):
            column = self.columns[name]
            if column.present is not None and not column.present.all():
                raise BadRequest(f"every frame needs {name!r}")
        _check_kind("positions", positions, "f", ndim=2)
        _check_kind("numbers", numbers, "iu", ndim=1)
        if positions.values.shape[-1] != 3 or (
            positions.shapes is not None and (positions.shapes[:, 1] != 3).any()
        ):
            raise BadRequest("'positions' must have shape (N, 3) in every frame")
        counts = _lengths(positions)
        if not np.array_equal(_lengths(numbers), counts):
            raise BadRequest("'numbers' must have the same length N as 'positions' in every frame")
        if not np.isfinite(positions.values).all():
            raise BadRequest("'positions' contains NaN or infinite values")
        if numbers.values.size and (numbers.values.min() < 0 or numbers.values.max() > 118):
            raise BadRequest("'numbers' must be atomic numbers between 0 and 118")
        if "cell" in self.columns:
            cell = self.columns["cell"]
            _check_kind("cell", cell, "fiu", ndim=2)
            if cell.values.shape[1:] != (3, 3) or cell.shapes is not None:
                raise BadRequest("'cell' must have shape (3, 3)")
            if not np.isfinite(cell.values).all():
                raise BadRequest("'cell' contains NaN or infinite values")
        if "pbc" in self.columns:
            pbc = self.columns["pbc"]
            _check_kind("pbc", pbc, "b", ndim=1)
            if pbc.values.shape[1:] != (3,) or pbc.shapes is not None:
                raise BadRequest("'pbc' must be 3 booleans")
        for name, column in self.columns.items():
            if name.startswith("arrays.") and column.objects is not None:
                _check_strings(name, column, counts)
            elif name.startswith("arrays.") or name.removeprefix("calc.") in PER_ATOM_CALC:
                if column.values is None or column.values.ndim < 2:
                    raise BadRequest(f"per-atom field {name!r} must be an array of length N")
                lengths = _lengths(column)
                mask = column.present if column.present is not None else slice(None)
                if not np.array_equal(lengths[mask], counts[mask]):
                    raise BadRequest(f"per-atom field {name!r} must have length N in every frame")
        if "constraints" in self.columns:
            _check_constraints(self.columns["constraints"], counts)

    def hashes(self) -> list[str]:
        """The sha256 of each frame's canonical content (fields sorted by name)."""
        hashers = [hashlib.sha256() for _ in range(self.size)]
        for name in sorted(self.columns):
            column = self.columns[name]
            prefix = msgpack.packb(name)
            if column.objects is not None:
                for row, hasher in enumerate(hashers):
                    if column.has(row):
                        hasher.update(prefix + b"o" + msgpack.packb(column.objects[row], default=_plain))
                continue
            dtype = column.values.dtype.str.encode()
            if column.shapes is None:
                row_prefix = prefix + dtype + repr(column.values.shape[1:]).encode()
                buffer = np.ascontiguousarray(column.values).reshape(self.size, -1).view(np.uint8)
                for row, hasher in enumerate(hashers):
                    if column.has(row):
                        hasher.update(row_prefix)
                        hasher.update(buffer[row])
                continue
            for row, hasher in enumerate(hashers):
                if column.has(row):
                    value = np.ascontiguousarray(column.get(row))
                    hasher.update(prefix + dtype + repr(value.shape).encode())
                    hasher.update(value.view(np.uint8).reshape(-1))
        return ["sha256:" + h.hexdigest() for h in hashers]

    def merge(self, update: FrameBatch) -> FrameBatch:
        """This one-frame batch with the fields of the one-frame ``update`` replaced."""
        frame = self.frame(0)
        frame.update(update.frame(0))
        return FrameBatch.from_frames([frame])


def _check_kind(name: str, column: Column, kinds: str, ndim: int) -> None:
    if column.values is None or column.values.dtype.kind not in kinds:
        raise BadRequest(f"{name!r} has the wrong type (expected dtype kind {kinds!r})")
    if column.values.ndim != ndim + 1:
        raise BadRequest(f"{name!r} must have {ndim} dimension(s) per frame")


def _check_strings(name: str, column: Column, counts: np.ndarray) -> None:
    """A per-atom string field (``arrays.residuenames``): a list of N strings per frame."""
    for row, value in enumerate(column.objects):
        if not column.has(row):
            continue
        strings = np.asarray(value) if isinstance(value, list) else None
        if strings is None or strings.dtype.kind != "U" or strings.shape != (counts[row],):
            raise BadRequest(f"per-atom field {name!r} must be an array of length N or a list "
                             f"of N strings in every frame (frame {row} is not)")


def _lengths(column: Column) -> np.ndarray:
    if column.shapes is None:
        return np.full(len(column), column.values.shape[1], dtype=np.int64)
    return column.shapes[:, 0]


def _check_constraints(column: Column, counts: np.ndarray) -> None:
    """Every frame's ``constraints`` must be ase constraints (``todict()`` maps) of atoms
    the frame has: each distinct value is rebuilt once to see."""
    if column.objects is None:
        raise BadRequest("'constraints' must be a list of {'name', 'kwargs'} maps per frame")
    seen: set[tuple[str, int]] = set()
    for row, value in enumerate(column.objects):
        if not column.has(row):
            continue
        key = (json.dumps(value, sort_keys=True, default=_plain), int(counts[row]))
        if key not in seen:
            constraints_of(value, int(counts[row]))
            seen.add(key)


def constraints_of(value: Any, natoms: int) -> list[Any]:
    """The ase constraints of one frame's ``constraints`` field, or :class:`BadRequest`
    naming the problem (an unknown name, bad arguments, an atom the frame does not have)."""
    from ase.constraints import __all__ as known
    from ase.constraints import dict2constraint

    if not isinstance(value, list):
        raise BadRequest("'constraints' must be a list of {'name', 'kwargs'} maps per frame")
    constraints = []
    for item in value:
        if (not isinstance(item, dict) or item.get("name") not in known
                or not isinstance(item.get("kwargs"), dict)):
            raise BadRequest(f"invalid constraint {str(item)[:200]}: expected ase's todict() "
                             f"form {{'name': one of ase.constraints, 'kwargs': {{...}}}}")
        try:
            constraint = dict2constraint(item)
            indices = constraint.get_indices() if hasattr(constraint, "get_indices") else []
        except Exception as error:  # ase's constructors raise anything for bad arguments
            raise BadRequest(f"invalid constraint {str(item)[:200]}: {error}") from None
        if len(indices) and not -natoms <= int(np.min(indices)) <= int(np.max(indices)) < natoms:
            raise BadRequest(f"constraint {item['name']} names atoms the frame does not have "
                             f"(it has {natoms})")
        constraints.append(constraint)
    return constraints


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot store values of type {type(obj).__name__}")


# -- ase ------------------------------------------------------------------------------------
def atoms_to_frame(atoms: ase.Atoms) -> Frame:
    """The fields of ``atoms`` (views of its arrays; nothing is changed)."""
    from ase import Atoms

    if not isinstance(atoms, Atoms):
        raise TypeError(f"expected ase.Atoms, got {type(atoms).__name__}")
    frame: Frame = {
        "positions": atoms.arrays["positions"],
        "numbers": atoms.arrays["numbers"],
        "cell": atoms.cell.array,
        "pbc": atoms.pbc,
    }
    for name, value in atoms.arrays.items():
        if name not in ("positions", "numbers"):
            frame[f"arrays.{name}"] = value
    for name, value in atoms.info.items():
        frame[f"info.{name}"] = value
    if atoms.calc is not None:
        for name, value in atoms.calc.results.items():
            frame[f"calc.{name}"] = value
    if atoms.constraints:
        frame["constraints"] = json.loads(json.dumps(
            [constraint.todict() for constraint in atoms.constraints], default=_plain))
    return frame


_IMMUTABLE = frozenset({int, float, str, bool, type(None)})
_GIVEN_TO_ATOMS = frozenset({"positions", "numbers", "cell", "pbc", "constraints"})


@functools.cache
def _ase() -> tuple[type, type]:
    """``ase.Atoms`` and the single-point calculator, imported on first use."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    return Atoms, SinglePointCalculator


def _own_value(value: Any) -> Any:
    """``value`` as a plain Python value or an array of its own (nothing shared)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.copy()
    return value if type(value) in _IMMUTABLE else copy.deepcopy(value)


def frame_to_atoms(frame: Mapping[str, Any]) -> ase.Atoms:
    """A new ``ase.Atoms`` from a frame, sharing nothing with it (``ase.Atoms`` copies the
    positions, numbers, cell and pbc it is given; constraints are made from their maps;
    every other value is copied here)."""
    return _atoms_of({name: [value] for name, value in frame.items()}, 1)[0]


def _atoms_of(rows: Mapping[str, list[Any]], count: int) -> list[ase.Atoms]:
    """``count`` new ``ase.Atoms`` from each field's values by frame (``ABSENT`` where a
    frame lacks the field), as :func:`frame_to_atoms` makes them."""
    if not count:
        return []
    atoms_class, calculator = _ase()
    numbers, positions = rows["numbers"], rows["positions"]
    cells, pbcs, constraints = (
        [None if v is ABSENT else v for v in rows.get(name, [None] * count)]
        for name in ("cell", "pbc", "constraints"))
    extras = []
    for name, values in rows.items():
        if name not in _GIVEN_TO_ATOMS:
            group, _, key = name.partition(".")
            extras.append((values, group, key))
    made = []
    for row in range(count):
        atoms = atoms_class(numbers=numbers[row], positions=positions[row], cell=cells[row],
                            pbc=pbcs[row])
        results = {}
        for values, group, key in extras:
            value = values[row]
            if value is ABSENT:
                continue
            value = _own_value(value)
            if group == "arrays":  # per-atom strings come as lists: arrays, as ase has them
                atoms.arrays[key] = np.array(value) if isinstance(value, list) else value
            elif group == "info":
                atoms.info[key] = value
            elif group == "calc":
                results[key] = value
        if results:
            atoms.calc = calculator(atoms, **results)
        if constraints[row]:
            atoms.set_constraint(constraints_of(constraints[row], len(atoms)))
        made.append(atoms)
    return made
