"""The client's frame cache (blocks of copied batches in a byte-bounded LRU) and building
``ase.Atoms`` from batches column by column."""

from __future__ import annotations

import numpy as np

from zndraw_widget.client.frame_cache import FrameCache, batch_nbytes
from zndraw_widget.frames import FrameBatch, frame_to_atoms

from ..test_storage import assert_same, mixed_batch


def refs(batch: FrameBatch, version: int = 1) -> list[tuple[str, int]]:
    return [(f"id{k}", version) for k in range(len(batch))]


def live_cache(max_bytes: int) -> FrameCache:
    cache = FrameCache(max_bytes)
    cache.set_live(True)
    return cache


def test_frames_column_by_column_are_each_frame_as_frame_gives_it():
    batch = mixed_batch(7, 5)  # shapes, a field some frames lack, plain values
    expected = [batch.frame(row) for row in range(len(batch))]
    for got, want in zip(batch.frames(), expected, strict=True):
        assert list(got) == list(want)
        for name, value in want.items():
            assert type(got[name]) is type(value)
            np.testing.assert_array_equal(got[name], value)
    assert [a.info for a in batch.to_atoms()] == [frame_to_atoms(f).info for f in expected]


def test_atoms_share_nothing_with_the_batch():
    batch = FrameBatch.from_frames([{"positions": np.zeros((2, 3)), "numbers": np.ones(2, int),
                                     "info.tags": ["a"], "calc.energy": 1.5}])
    atoms = batch.to_atoms()[0]
    assert atoms.get_potential_energy() == 1.5
    atoms.positions += 1
    atoms.info["tags"].append("b")
    assert not batch.columns["positions"].values.any()
    assert batch.columns["info.tags"].objects == [["a"]]


def test_lookup_returns_what_was_stored_in_any_order_across_blocks():
    batch = mixed_batch(10, 6)
    cache = live_cache(batch_nbytes(batch) * 2)  # blocks of a fraction of the batch
    cache.store(cache.begin(), list(range(10)), refs(batch), batch, 10)
    assert_same(cache.lookup(range(10)), batch)
    assert_same(cache.lookup([7, 2, 3]), batch.take([7, 2, 3]))
    assert cache.lookup([3, 11]) is None  # not all are here


def test_a_read_bigger_than_a_block_is_kept_as_copies():
    batch = mixed_batch(12, 3)
    expected = batch.copy()
    cache = live_cache(2 * batch_nbytes(batch))  # blocks of half the read
    cache.store(cache.begin(), list(range(12)), refs(batch), batch, 12)
    batch.columns["positions"].values[:] = -1  # the read's own arrays are not kept
    assert_same(cache.lookup(range(12)), expected)


def test_the_cache_stays_within_its_bytes_and_forgets_dropped_blocks():
    first, second = mixed_batch(8, 50, seed=1), mixed_batch(8, 50, seed=2)
    cache = live_cache(int(batch_nbytes(first) * 1.5))
    cache.store(cache.begin(), list(range(8)), refs(first), first, 8)
    cache.changed_order(8)
    cache.store(cache.begin(), list(range(8)), refs(second, version=2), second, 8)
    assert cache._blocks.nbytes <= cache._blocks.max_bytes
    assert_same(cache.lookup(range(8)), second)
    kept = {ref for ref, _ in cache._rows.items()}
    assert kept <= set(refs(first)) | set(refs(second, version=2))
    assert len(kept) < 16  # the first read's oldest blocks went, with their rows


def test_nothing_is_stored_after_an_invalidation_or_while_not_live():
    batch = mixed_batch(3, 3)
    cache = live_cache(1 << 20)
    token = cache.begin()
    cache.changed_frame(1)
    cache.store(token, [0, 1, 2], refs(batch), batch, 3)
    assert cache.lookup([0]) is None
    cache.set_live(False)
    cache.store(cache.begin(), [0, 1, 2], refs(batch), batch, 3)
    cache.set_live(True)
    assert cache.lookup([0]) is None
