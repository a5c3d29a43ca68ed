"""Per-atom string arrays (PDB's ``residuenames``): stored as lists of N strings per frame,
read back as numpy string arrays; anything else in a per-atom field is a 400."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule

from zndraw_widget import codec
from zndraw_widget.errors import BadRequest
from zndraw_widget.frames import FrameBatch


def test_string_arrays_survive_the_wire_and_come_back_as_arrays():
    atoms = molecule("H2O")
    atoms.arrays["residuenames"] = np.array(["HOH"] * 3)
    batch = FrameBatch.from_atoms([atoms, atoms])
    batch.validate()
    wire = codec.decode(codec.encode(batch.to_wire()))
    assert wire["data"]["arrays.residuenames"] == {"objects": [["HOH"] * 3] * 2}
    back = FrameBatch.from_wire(wire).to_atoms()
    assert back[1].arrays["residuenames"].tolist() == ["HOH"] * 3
    assert back[1].arrays["residuenames"].dtype.kind == "U"


@pytest.mark.parametrize("value", [["HOH"] * 2, [1, 2, 3], "HOH", [["H"], ["O"], ["H"]]])
def test_a_per_atom_field_that_is_not_n_strings_is_refused(value):
    atoms = molecule("H2O")
    batch = FrameBatch.from_atoms([atoms])
    wire = batch.to_wire()
    wire["data"]["arrays.names"] = {"objects": [value]}
    with pytest.raises(BadRequest, match="arrays.names.*list of N strings"):
        FrameBatch.from_wire(wire)
