"""Splitting an xyz file at frame starts, from any offset, as parse processes do."""

from __future__ import annotations

import io

import ase.io
import pytest

from zndraw_widget.jobs.parse import NeedMore, frame_start

from ..conftest import make_atoms


@pytest.fixture(scope="module")
def xyz():
    """An extxyz file whose comment lines hold only a number (as an atom count would), and
    the offsets where its frames start."""
    text = io.StringIO()
    for step, atoms in enumerate(make_atoms(30, natoms=5)):
        atoms.info.clear()
        ase.io.write(text, atoms, format="xyz", comment=str(100 + step))
    data = text.getvalue().encode()
    lines = data.splitlines(keepends=True)
    starts, offset = [], 0
    for index, line in enumerate(lines):
        if index % 7 == 0:
            starts.append(offset)
        offset += len(line)
    return data, starts


def test_every_offset_moves_to_the_next_frame_start(xyz):
    data, starts = xyz
    file = io.BytesIO(data)
    for offset in range(0, len(data) + 1, 13):
        expected = next((start for start in starts if start >= offset), len(data))
        assert frame_start(file, offset, len(data)) == expected, offset


def test_a_file_still_arriving_needs_more_before_it_can_tell(xyz):
    data, starts = xyz
    arrived = starts[10] + 20  # in the middle of frame 10's count and comment
    file = io.BytesIO(data)
    assert frame_start(file, starts[3] + 1, arrived, complete=False) == starts[4]
    with pytest.raises(NeedMore):  # frame 10 starts here, but its frame has not arrived
        frame_start(file, starts[9] + 1, arrived, complete=False)
    with pytest.raises(NeedMore):
        frame_start(file, arrived, arrived, complete=False)
