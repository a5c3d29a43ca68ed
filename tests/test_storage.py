"""Frame storage (small batches as files, large ones as zarr, cached chunks) and the room
service's cache of encoded single-frame reads."""

from __future__ import annotations

import numpy as np
import pytest

from zndraw_widget import codec
from zndraw_widget.caller import Caller
from zndraw_widget.frames import FrameBatch
from zndraw_widget.room_service import RoomService
from zndraw_widget.state import MemoryStore
from zndraw_widget.storage import TARGET_CHUNK_BYTES, FieldInfo, ZarrProvider

ALICE = Caller("alice", frozenset(), "s")


def mixed_batch(count: int, natoms: int, seed: int = 0) -> FrameBatch:
    """Variable atom counts, a field only some frames have, and plain values."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        n = natoms - i % 3
        frame = {"positions": rng.random((n, 3)), "numbers": rng.integers(1, 20, n),
                 "info.label": f"frame {i}", "info.step": i}
        if i % 2:
            frame["arrays.charge"] = rng.random(n)
        frames.append(frame)
    return FrameBatch.from_frames(frames)


def assert_same(read: FrameBatch, expected: FrameBatch) -> None:
    assert len(read) == len(expected)
    for got, want in zip(read.frames(), expected.frames()):
        assert got.keys() == want.keys()
        for name, value in want.items():
            np.testing.assert_array_equal(np.asarray(got[name]), np.asarray(value))


@pytest.mark.parametrize("natoms", [5, 2000], ids=["file", "zarr"])
@pytest.mark.parametrize("cache_bytes", [512 << 20, 0], ids=["cached", "uncached"])
def test_round_trip_in_any_order_and_after_reopening(tmp_path, natoms, cache_bytes):
    batch = mixed_batch(120, natoms)
    assert (batch.nbytes <= TARGET_CHUNK_BYTES) == (natoms == 5)
    other = mixed_batch(7, natoms, seed=1)
    storage = ZarrProvider(tmp_path, cache_bytes=cache_bytes)
    locations = storage.write(batch)
    other_locations = storage.write(other)
    rows = [5, 6, 7, 119, 0, 1, 60, 60, 3]
    picked = [locations[r] for r in rows] + other_locations[2:4] + [locations[8]]
    expected = FrameBatch.concat([batch.take(rows), other.take([2, 3]), batch.take([8])])
    for provider in (storage, ZarrProvider(tmp_path, cache_bytes=cache_bytes)):
        assert_same(provider.read(picked), expected)
        assert_same(provider.read(locations), batch)
        only = provider.read(picked, ["arrays.charge"])
        assert list(only.columns) == ["arrays.charge"]
        assert_same(only, expected.select(["arrays.charge"]))
        assert provider.fields(other_locations) == set(other.columns)
        described = provider.describe(picked)  # file and zarr segments, fresh or reopened
        assert described["positions"] == FieldInfo("<f8", (natoms, 3))
        assert described["info.step"] == FieldInfo("<i8", ())
        assert described["arrays.charge"] == FieldInfo("<f8", (natoms,))
        assert described["info.label"] == FieldInfo(None, ())
    segments = {location.rpartition("/")[0] for location in locations + other_locations}
    assert set(storage.segment_ages()) == segments
    storage.delete_segments(segments)
    assert storage.segment_ages() == {}


@pytest.mark.asyncio
async def test_a_cached_frame_read_states_the_rooms_current_index_and_length(tmp_path):
    service = RoomService(MemoryStore(), ZarrProvider(tmp_path))
    await service.create_room(ALICE, "r", None)
    commit = await service.insert(ALICE, "r", mixed_batch(3, 4), index=None, order_base=0)
    first = codec.decode((await service.read(ALICE, "r", [2])).body)
    assert (list(first["indices"]), first["length"]) == ([2], 3)
    await service.insert(ALICE, "r", mixed_batch(1, 4, seed=2), index=0,
                         order_base=commit.order_version)
    again = codec.decode((await service.read(ALICE, "r", [3])).body)
    assert again["ids"] == first["ids"]
    assert (list(again["indices"]), again["length"]) == ([3], 4)
    assert again["seq"] == first["seq"] + 1


def test_field_infos_of_two_segments_merge():
    """A field stored in two segments: the wider dtype, the larger shape, text wins."""
    merged = FieldInfo("<i8", (3,)).merge(FieldInfo("<f4", (5,)))
    assert merged == FieldInfo("<f8", (5,))
    assert FieldInfo("<f8", ()).merge(FieldInfo(None, ())) == FieldInfo(None, ())
