"""The MemoryStore's compact columns: encodings come back exactly, KeyIndex behaves as a
dict, and what cannot be held is refused before the journal takes it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zndraw_widget.state.base import FrameRef
from zndraw_widget.state.columns import (
    KeyIndex,
    Segments,
    hash_text,
    hashes_array,
    ids_array,
    keys_array,
    lookup_keys,
)
from zndraw_widget.state.memory import MemoryStore

DIGESTS = ["sha256:" + "00" * 32, "sha256:" + "ab" * 31 + "00", "sha256:" + "0f" * 32]
ODD = ["h1", "sha256:a", "sha256:" + "AB" * 32, "sha256:" + "g" * 64, "", "x" * 100]


def test_hashes_come_back_exactly():
    for hashes in (DIGESTS, ODD, DIGESTS + ODD):
        assert [hash_text(h) for h in hashes_array(hashes).tolist()] == hashes
    assert hashes_array(DIGESTS).dtype.itemsize == 33  # a flag byte and the digest


def test_locations_come_back_exactly():
    segments = Segments()
    locations = ["seg/0", "seg/12", "x/007", "l", "a/b/3", "s/", "/5", "seg/99999999999"]
    codes = segments.encode_all(locations)
    assert [segments.decode(c) for c in codes] == locations
    assert codes[1] - codes[0] == 12 and segments.names[:1] == ["seg"]
    assert segments.segments(codes) == {"seg", "x", "a/b", ""}


def test_what_cannot_be_held_is_refused_and_never_found():
    with pytest.raises(ValueError, match="NUL"):
        ids_array(["a\x00"])
    with pytest.raises(ValueError, match="x01"):
        hashes_array(["\x01a"])
    keys, held = lookup_keys(["a\x00", "a"])
    assert held.tolist() == [False, True]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="abc\x00é", max_size=4).filter(
    lambda t: not t.endswith("\x00")), st.integers(-1, 5)), max_size=3000))
def test_key_index_is_a_dict(changes):
    index, expected = KeyIndex(), {}
    for start in range(0, len(changes), 700):  # batches, with merges between some
        batch = changes[start : start + 700]
        index.set(keys_array(t.encode() for t, _ in batch),
                  np.array([v for _, v in batch], dtype=np.int64))
        for text, value in batch:
            if value < 0:
                expected.pop(text, None)
            else:
                expected[text] = value
        texts = sorted({t for t, _ in changes} | {"zz"})
        found = index.lookup(keys_array(t.encode() for t in texts)).tolist()
        assert found == [expected.get(t, -1) for t in texts]
    assert len(index) == len(expected)


@pytest.mark.asyncio
async def test_an_id_the_columns_cannot_hold_is_refused_before_the_journal(tmp_path):
    store = MemoryStore(tmp_path)
    await store.create_room("r", [], [], 1.0)
    size = store._journal.size
    with pytest.raises(ValueError):
        await store.insert("r", [(0, FrameRef("a\x00", 1, "h", "s/0"))], session="s",
                           order_base=0)
    assert store._journal.size == size
    await store.close()
    again = MemoryStore(tmp_path)
    assert (await again.room_info("r")).length == 0
    await again.close()
