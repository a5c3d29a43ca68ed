"""``room.selection`` and ``room.bookmarks`` against a real standalone server process: what
one kernel sets, another reads and hears (on_change), bad input said clearly."""

from __future__ import annotations

import numpy as np
import pytest

from zndraw_widget.errors import BadRequest

from ..conftest import make_atoms
from .test_client_live import Events

pytestmark = pytest.mark.usefixtures("no_ambient_server")

CAMERA = {"position": [0, 0, 20], "target": [0, 0, 0], "up": [0, 1, 0], "fov": 45}


def test_a_selection_set_in_one_kernel_is_read_and_heard_in_another(connect):
    mine, other = connect(), connect()
    mine.extend(make_atoms(2, natoms=8))
    assert mine.selection == [] and mine.selections == {}
    events = Events(other)
    mine.selection = np.array([5, 2, 5])
    assert other.selection == [5, 2]  # the same user (the server's token): one selection
    assert list(other.selections.values()) == [[5, 2]]
    assert events.next("selection")["value"] == [5, 2]
    mine.selection = range(3)
    assert other.selection == [0, 1, 2]
    mine.selection = (i for i in (4, 1))  # any iterable of indices
    assert other.selection == [4, 1]
    with pytest.raises(BadRequest, match=r"selection: 0.5 \(atom 2 of the 2 given\) is no "
                                         "atom index: give integers from 0"):
        mine.selection = [1, 0.5]
    with pytest.raises(BadRequest, match=r"selection: -1 \(atom 1 of the 1 given\)"):
        mine.selection = [-1]
    with pytest.raises(BadRequest, match="selection: a list of atom indices, not int"):
        mine.selection = 3


def test_bookmarks_are_a_mapping_kept_in_the_room(connect):
    mine, other = connect(), connect()
    mine.extend(make_atoms(4))
    events = Events(other)
    mine.bookmarks["start"] = 0
    mine.bookmarks["end"] = {"frame": -1, "camera": CAMERA}
    assert other.bookmarks == {"start": {"frame": 0, "camera": None},
                               "end": {"frame": 3, "camera": CAMERA}}
    assert events.next("bookmark", key="end")["value"]["frame"] == 3
    assert len(other.bookmarks) == 2 and sorted(other.bookmarks) == ["end", "start"]
    assert other.bookmarks["end"]["camera"] == CAMERA
    del other.bookmarks["start"]
    assert list(mine.bookmarks) == ["end"]
    with pytest.raises(KeyError):
        del mine.bookmarks["start"]
    with pytest.raises(IndexError, match="out of range"):
        mine.bookmarks["far"] = 10
    with pytest.raises(TypeError, match="a bookmark is"):
        mine.bookmarks["bad"] = "first"
    with pytest.raises(BadRequest, match=r"camera\['fov'\]: degrees in \(0, 179\], not 'wide'"):
        mine.bookmarks["bad"] = {"frame": 0, "camera": {"fov": "wide"}}
    assert "Bookmarks({'end'" in repr(mine.bookmarks)
