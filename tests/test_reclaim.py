"""Superseded data is kept for undo up to the configured depths, then reclaimed."""

from __future__ import annotations

import pytest

from zndraw_widget.caller import Caller
from zndraw_widget.frames import FrameBatch
from zndraw_widget.room_service import RoomService
from zndraw_widget.state.memory import MemoryStore
from zndraw_widget.storage import ZarrProvider

from .conftest import make_atoms

ALICE = Caller("alice", frozenset(), "s")


@pytest.mark.asyncio
async def test_reclaim_deletes_only_unreferenced_segments(tmp_path):
    storage = ZarrProvider(tmp_path)
    service = RoomService(MemoryStore(history_depth=2, record_depth=2), storage)
    await service.create_room(ALICE, "r", base=None)
    atoms = make_atoms(3)
    await service.insert(ALICE, "r", FrameBatch.from_atoms(atoms), index=None, order_base=0)
    versions = [make_atoms(1, seed=10 + k) for k in range(4)]
    for k, new in enumerate(versions):  # frame 0 at versions 2..5, one segment each
        await service.replace(ALICE, "r", 0, FrameBatch.from_atoms(new), base_version=k + 1)
    await service.create_room(ALICE, "tmp", base=None)
    await service.insert(ALICE, "tmp", FrameBatch.from_atoms(make_atoms(2, seed=99)), index=None,
                         order_base=0)
    await service.delete_room(ALICE, "tmp")
    assert len(storage.segment_ages()) == 6

    # Version 2's segment is out of the history (depth 2: versions 4, 5) and of the undo
    # records (depth 2: back to versions 4 and 3); the deleted room's segment is unreferenced.
    assert await service.reclaim(min_age=0, settle=0) == 2
    assert len(storage.segment_ages()) == 4
    _, batch = await service.read_batch(ALICE, "r", [0, 1, 2])
    assert batch.to_atoms() == [versions[-1][0], atoms[1], atoms[2]]
    await service.undo(ALICE, "r")
    await service.undo(ALICE, "r")
    _, batch = await service.read_batch(ALICE, "r", [0])
    assert batch.to_atoms() == [versions[1][0]]
    # Content whose data was deleted is stored anew, not deduplicated onto the deleted data.
    await service.replace(ALICE, "r", 0, FrameBatch.from_atoms(versions[0]), base_version=7)
    _, batch = await service.read_batch(ALICE, "r", [0])
    assert batch.to_atoms() == [versions[0][0]]
    assert await service.reclaim(min_age=3600, settle=0) == 0  # too young to reclaim


@pytest.mark.asyncio
async def test_an_expired_ephemeral_room_is_deleted_and_its_data_reclaimed(tmp_path):
    storage = ZarrProvider(tmp_path)
    store = MemoryStore()
    service = RoomService(store, storage, ephemeral_ttl=0)
    for name, seed in (("passing", 1), ("kept", 2), ("watched", 3)):
        info = await service.create_room(ALICE, name, base=None, ephemeral=True)
        assert info.expires is not None
        await service.insert(ALICE, name, FrameBatch.from_atoms(make_atoms(2, seed=seed)),
                             index=None, order_base=0)
    await service.set_room_fields(ALICE, "kept", keep=True)
    await store.presence("watched", "viewer", "bob")  # a view has it open
    assert len(storage.segment_ages()) == 3
    assert await service.expire_rooms() == ["passing"]
    _, listed = await service.list_rooms(ALICE)
    assert [r.name for r in listed] == ["kept", "watched"]
    assert await service.reclaim(min_age=0, settle=0) == 1
    assert len(storage.segment_ages()) == 2
    await store.presence("watched", "viewer", None)  # the view left
    assert await service.expire_rooms() == ["watched"]
