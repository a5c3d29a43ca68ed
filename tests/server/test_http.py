"""The HTTP data channel, on both mounts: the Jupyter extension and the standalone server."""

from __future__ import annotations

import hashlib
import json

import msgpack
import numpy as np
import pytest

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import make_atoms


def frame_body(atoms_list) -> bytes:
    return codec.encode(FrameBatch.from_atoms(atoms_list).to_wire())


async def test_health(api):
    body = await api.json("GET", "health")
    assert body["status"] == "ok" and body["version"]


async def test_credentials_are_required(api):
    for headers in ({"Authorization": "token wrong"}, {"Authorization": ""}):
        response = await api.call("GET", "rooms", headers=headers)
        assert response.code in (401, 403)
        assert "error" in json.loads(response.body) or "message" in json.loads(response.body)
    response = await api.call("POST", "rooms", json_body={"name": "x"},
                              headers={"Authorization": "token wrong"})
    assert response.code in (401, 403)
    assert (await api.json("GET", "rooms"))["total"] == 0


async def test_room_lifecycle_and_pagination(api):
    for name in ("b", "a", "c"):
        info = await api.create_room(name)
        assert info["name"] == name and info["length"] == 0
    page = await api.json("GET", "rooms", params={"offset": 1, "limit": 1})
    assert page["total"] == 3 and [r["name"] for r in page["rooms"]] == ["b"]
    error = await api.json("POST", "rooms", 409, json_body={"name": "a"})
    assert error["error"] == "already_exists"
    await api.json("DELETE", "rooms/a", 204)
    assert (await api.json("GET", "rooms/a", 404))["error"] == "not_found"
    assert (await api.json("GET", "rooms"))["total"] == 2


@pytest.mark.parametrize("name", ["../x", "", "x" * 200, "a\x01b", "a b", "-x"])
async def test_invalid_room_names(api, name):
    error = await api.json("POST", "rooms", 400, json_body={"name": name})
    assert "invalid room name" in error["message"]


async def test_invalid_room_name_in_path(api):
    response = await api.call("GET", "rooms/..%2Fetc")
    assert response.code == 400


async def test_extend_and_read_back_with_field_selection(api):
    await api.create_room("r")
    atoms = make_atoms(5)
    commit = await api.extend("r", atoms, base=0)
    assert commit == {"seq": 1, "order_version": 1, "count": 5}
    message = await api.read("r")
    assert message["length"] == 5 and len(message["ids"]) == 5
    assert list(message["versions"]) == [1] * 5 and all(h.startswith("sha256:") for h in message["hashes"])
    back = FrameBatch.from_wire(message).to_atoms()
    for original, copy in zip(atoms, back):
        assert copy == original and copy.info == original.info
    only = await api.read("r", index="1:4", data="positions")
    assert set(only["data"]) == {"positions"}
    np.testing.assert_array_equal(only["data"]["positions"]["values"][0], atoms[1].positions)
    picked = await api.read("r", index="-1,0", data="numbers")
    assert list(picked["indices"]) == [4, 0]
    np.testing.assert_array_equal(picked["data"]["numbers"]["values"][0], atoms[4].numbers)


async def test_arrays_are_aligned_for_typed_array_views(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(2, natoms=3), base=0)
    response = await api.call("GET", "rooms/r/frames", params={"index": "0"})
    assert response.headers["Content-Type"] == "application/msgpack"
    body = response.body
    for dtype in (b"<f8", b"<i8"):
        header_at = body.find(msgpack.packb([dtype.decode(), [1, 3, 3] if dtype == b"<f8" else [1, 3]]))
        assert header_at > 0
        pad_at = header_at + len(msgpack.packb([dtype.decode(), [1, 3]])) + (1 if dtype == b"<f8" else 0)
        start = pad_at + 1 + body[pad_at]
        assert start % 8 == 0


async def test_unknown_and_invalid_fields(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(2), base=0)
    error = await api.json("GET", "rooms/r/frames", 400, params={"data": "positions,calc.nope"})
    assert "calc.nope" in error["message"]
    error = await api.json("GET", "rooms/r/frames", 400, params={"data": "../x"})
    assert "invalid field names" in error["message"]
    error = await api.json("GET", "rooms/r/frames", 400, params={"data": "../x?"})
    assert "invalid field names" in error["message"]


async def test_optional_fields_are_sent_where_frames_have_them(api):
    await api.create_room("r")
    plain, colored = make_atoms(2)
    colored.set_array("colors", np.tile([1.0, 0.0, 0.0], (len(colored), 1)))
    await api.extend("r", [plain, colored], base=0)
    read = await api.call("GET", "rooms/r/frames", params={"data": "positions,arrays.colors?"})
    assert read.code == 200
    data = codec.decode(read.body)["data"]
    assert set(data) == {"positions", "arrays.colors"}
    assert list(data["arrays.colors"]["present"]) == [False, True]
    read = await api.call("GET", "rooms/r/frames",
                          params={"index": "0", "data": "positions,arrays.nothing?"})
    assert set(codec.decode(read.body)["data"]) == {"positions"}
    # the same field, not optional, is still a 400 naming it
    error = await api.json("GET", "rooms/r/frames", 400,
                           params={"index": "0", "data": "positions,arrays.nothing"})
    assert "arrays.nothing" in error["message"]


async def test_fields_name_what_frames_carry_and_scalars_read_in_one_request(api):
    """``GET fields`` lists every field with its dtype and per-frame shape (what a viewer
    may plot); one read of only the scalars brings them for the whole room."""
    from ase.calculators.singlepoint import SinglePointCalculator

    await api.create_room("r")
    frames = make_atoms(3)
    for i, atoms in enumerate(frames[1:], 1):
        atoms.calc = SinglePointCalculator(atoms, energy=-1.5 * i, forces=np.zeros((4, 3)))
    frames[2].info["label"] = "relaxed"
    await api.extend("r", frames, base=0)
    body = await api.json("GET", "rooms/r/fields")
    assert body["length"] == 3 and body["seq"] == 1
    fields = body["fields"]
    assert fields["calc.energy"] == {"dtype": "<f8", "shape": []}
    assert fields["info.step"] == {"dtype": "<i8", "shape": []}
    assert fields["calc.forces"] == {"dtype": "<f8", "shape": [4, 3]}
    assert fields["info.label"] == {"dtype": None, "shape": []}
    assert fields["positions"]["shape"] == [4, 3]
    read = await api.call("GET", "rooms/r/frames", params={"data": "calc.energy?,info.step?"})
    data = codec.decode(read.body)["data"]
    assert list(data["calc.energy"]["present"]) == [False, True, True]
    np.testing.assert_array_equal(data["calc.energy"]["values"][1:], [-1.5, -3.0])
    np.testing.assert_array_equal(data["info.step"]["values"], [0, 1, 2])
    # a write changes what the room carries (what was described is not kept past it)
    await api.extend("r", [make_atoms(1, natoms=6)[0]], base=1)
    again = await api.json("GET", "rooms/r/fields")
    assert again["seq"] == 2 and again["fields"]["positions"]["shape"] == [6, 3]
    assert (await api.json("GET", "rooms/nope/fields", 404))["error"] == "not_found"
    await api.create_room("empty")
    assert (await api.json("GET", "rooms/empty/fields"))["fields"] == {}


async def test_frames_of_positions_and_numbers_only_read_with_optional_cell(api):
    """The protocol allows frames without cell and pbc: the viewer asks for them as optional."""
    await api.create_room("r")
    batch = FrameBatch.from_frames([{"positions": np.zeros((2, 3)), "numbers": np.array([1, 8])}])
    response = await api.call("POST", "rooms/r/frames", params={"base_version": "0"},
                              body=codec.encode(batch.to_wire()))
    assert response.code == 201
    read = await api.call("GET", "rooms/r/frames",
                          params={"index": "0", "data": "positions,numbers,cell?,pbc?"})
    assert read.code == 200
    assert set(codec.decode(read.body)["data"]) == {"positions", "numbers"}


async def test_etag_answers_304_until_the_frame_changes(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(2), base=0)
    first = await api.call("GET", "rooms/r/frames", params={"index": "0"})
    etag = first.headers["Etag"]
    again = await api.call("GET", "rooms/r/frames", params={"index": "0"},
                           headers={"If-None-Match": etag})
    assert again.code == 304
    frame = make_atoms(1, seed=9)[0]
    await api.json("PUT", "rooms/r/frames/0", params={"base_version": 1}, body=frame_body([frame]))
    changed = await api.call("GET", "rooms/r/frames", params={"index": "0"},
                             headers={"If-None-Match": etag})
    assert changed.code == 200 and changed.headers["Etag"] != etag


async def test_insert_replace_patch_delete(api):
    await api.create_room("r")
    atoms = make_atoms(4)
    await api.extend("r", atoms, base=0)
    new = make_atoms(1, seed=5)
    await api.extend("r", new, base=1, at=0)
    message = await api.read("r", data="numbers")
    np.testing.assert_array_equal(message["data"]["numbers"]["values"][0], new[0].numbers)
    assert message["length"] == 5

    replacement = make_atoms(1, natoms=7, seed=6)[0]
    result = await api.json("PUT", "rooms/r/frames/1", params={"base_version": 1},
                            body=frame_body([replacement]))
    assert result["version"] == 2
    assert FrameBatch.from_wire(await api.read("r", "1")).to_atoms()[0] == replacement

    moved = replacement.positions + 1.0
    patch = codec.encode({"data": {"positions": {"values": moved[None]}}})
    result = await api.json("PATCH", "rooms/r/frames/1", params={"base_version": 2}, body=patch)
    assert result["version"] == 3
    back = FrameBatch.from_wire(await api.read("r", "1")).to_atoms()[0]
    np.testing.assert_allclose(back.positions, moved)
    np.testing.assert_array_equal(back.numbers, replacement.numbers)

    await api.json("DELETE", "rooms/r/frames", params={"index": "0:5:2", "base_version": 2})
    message = await api.read("r", data="numbers")
    assert message["length"] == 2
    assert list(message["data"]["numbers"]["shapes"][:, 0]) == [7, 4]
    np.testing.assert_array_equal(
        FrameBatch.from_wire(message, validate=False).frame(1)["numbers"], atoms[2].numbers)


async def test_stale_versions_conflict_and_write_nothing(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(2), base=0)
    error = await api.json("POST", "rooms/r/frames", 409, params={"base_version": 0},
                           body=frame_body(make_atoms(1)))
    assert error["error"] == "conflict" and error["current_version"] == 1
    await api.json("PUT", "rooms/r/frames/0", params={"base_version": 1},
                   body=frame_body(make_atoms(1, seed=3)))
    error = await api.json("PUT", "rooms/r/frames/0", 409, params={"base_version": 1},
                           body=frame_body(make_atoms(1, seed=4)))
    assert error["current_version"] == 2
    error = await api.json("DELETE", "rooms/r/frames", 409, params={"index": "0", "base_version": 0})
    info = await api.json("GET", "rooms/r")
    assert (info["length"], info["seq"]) == (2, 2)
    missing = await api.json("POST", "rooms/r/frames", 400, body=frame_body(make_atoms(1)))
    assert "base_version" in missing["message"]


async def test_payload_hash_is_verified(api):
    await api.create_room("r")
    body = frame_body(make_atoms(2))
    good = hashlib.sha256(body).hexdigest()
    error = await api.json("POST", "rooms/r/frames", 400, params={"base_version": 0},
                           body=body[:-10] + bytes(10), headers={"X-Content-SHA256": good})
    assert "corrupted or truncated" in error["message"]
    assert (await api.json("GET", "rooms/r"))["length"] == 0
    await api.json("POST", "rooms/r/frames", 201, params={"base_version": 0}, body=body,
                   headers={"X-Content-SHA256": "sha256:" + good})


def _bad_bodies():
    pos = np.zeros((1, 2, 3))
    num = np.ones((1, 2), dtype=np.int64)
    return {
        "malformed msgpack": b"\xc1\xff\x00garbage",
        "not a map": codec.encode([1, 2, 3]),
        "positions not (N,3)": codec.encode({"data": {"positions": {"values": np.zeros((1, 2, 2))},
                                                      "numbers": {"values": num}}}),
        "numbers wrong length": codec.encode({"data": {"positions": {"values": pos},
                                                       "numbers": {"values": np.ones((1, 3), dtype=np.int64)}}}),
        "positions as strings": codec.encode({"data": {"positions": {"objects": ["a"]},
                                                       "numbers": {"values": num}}}),
        "float numbers": codec.encode({"data": {"positions": {"values": pos},
                                                "numbers": {"values": num.astype(float)}}}),
        "non-finite": codec.encode({"data": {"positions": {"values": pos + np.nan},
                                             "numbers": {"values": num}}}),
        "missing numbers": codec.encode({"data": {"positions": {"values": pos}}}),
        "bad field name": codec.encode({"data": {"positions": {"values": pos},
                                                 "numbers": {"values": num},
                                                 "evil/../x": {"values": num}}}),
        "truncated array": codec.encode({"data": {"positions": {"values": pos},
                                                  "numbers": {"values": num}}})[:-5],
        "element 200": codec.encode({"data": {"positions": {"values": pos},
                                              "numbers": {"values": num * 200}}}),
        "empty": b"",
    }


@pytest.mark.parametrize("case", list(_bad_bodies()))
async def test_bad_frames_are_rejected_and_nothing_is_written(api, case):
    await api.create_room("r")
    await api.extend("r", make_atoms(1), base=0)
    body = _bad_bodies()[case]
    error = await api.json("POST", "rooms/r/frames", 400, params={"base_version": 1}, body=body)
    assert error["error"] == "bad_request" and error["message"]
    error = await api.json("PUT", "rooms/r/frames/0", 400, params={"base_version": 1}, body=body)
    info = await api.json("GET", "rooms/r")
    assert (info["length"], info["seq"]) == (1, 1)
    assert (await api.read("r"))["length"] == 1  # still serving


async def test_body_over_the_limit_is_413(api):
    await api.create_room("r")
    big = frame_body(make_atoms(1, natoms=200_000))  # ~6 MB > max_upload_mb = 4
    error = await api.json("POST", "rooms/r/frames", 413, params={"base_version": 0}, body=big)
    assert error["error"] == "payload_too_large"
    assert (await api.json("GET", "rooms/r"))["length"] == 0


async def test_missing_rooms_and_indices(api):
    assert (await api.json("GET", "rooms/nope/frames", 404))["error"] == "not_found"
    await api.json("POST", "rooms/nope/frames", 404, params={"base_version": 0},
                   body=frame_body(make_atoms(1)))
    await api.create_room("r")
    await api.extend("r", make_atoms(2), base=0)
    error = await api.json("GET", "rooms/r/frames", 404, params={"index": "2"})
    assert error["error"] == "index_out_of_range"
    await api.json("GET", "rooms/r/frames", 404, params={"index": "-3"})
    await api.json("PUT", "rooms/r/frames/7", 404, params={"base_version": 1},
                   body=frame_body(make_atoms(1)))
    await api.json("POST", "rooms/r/frames", 404, params={"base_version": 1, "at": 9},
                   body=frame_body(make_atoms(1)))
    for index in ("1:2:0", "a", "1;2", "9999999999999999999"):
        await api.json("GET", "rooms/r/frames", 400, params={"index": index})


async def test_copy_on_write_rooms_and_default_room(api):
    await api.create_room("base")
    atoms = make_atoms(3)
    await api.extend("base", atoms, base=0)
    copy = await api.json("POST", "rooms", 201, json_body={"name": "copy", "base": "base"})
    assert copy["length"] == 3
    original, copied = await api.read("base"), await api.read("copy")
    assert copied["hashes"] == original["hashes"] and copied["ids"] != original["ids"]
    await api.json("PUT", "rooms/copy/frames/0", params={"base_version": 1},
                   body=frame_body(make_atoms(1, seed=7)))
    assert (await api.read("base", "0"))["hashes"] == original["hashes"][:1]
    assert (await api.json("GET", "default-room"))["name"] is None
    await api.json("PUT", "default-room", json_body={"name": "base"})
    fresh = await api.json("POST", "rooms", 201, json_body={"name": "fresh"})
    assert fresh["length"] == 3
    empty = await api.json("POST", "rooms", 201, json_body={"name": "empty", "base": None})
    assert empty["length"] == 0
    await api.json("PUT", "default-room", 404, json_body={"name": "missing"})
    await api.json("POST", "rooms", 404, json_body={"name": "c2", "base": "missing"})


async def test_identical_content_is_stored_once(api):
    await api.create_room("r")
    frame = make_atoms(1)[0]
    await api.extend("r", [frame, frame.copy()], base=0)
    await api.extend("r", [frame], base=1)
    message = await api.read("r")
    assert len(set(message["hashes"])) == 1 and len(set(message["ids"])) == 3


async def test_history_undo_redo(api):
    headers = {"X-ZnDraw-Session": "alice"}
    await api.create_room("r")
    atoms = make_atoms(2)
    await api.extend("r", atoms, base=0)
    first = (await api.read("r", "0"))["hashes"][0]
    edited = make_atoms(1, seed=8)
    await api.json("PUT", "rooms/r/frames/0", params={"base_version": 1},
                   body=frame_body(edited), headers=headers)
    history = await api.json("GET", "rooms/r/frames/0/history")
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][0]["hash"] == first
    await api.json("POST", "rooms/r/undo", headers=headers)
    message = await api.read("r", "0")
    assert message["hashes"][0] == first and list(message["versions"]) == [3]
    await api.json("POST", "rooms/r/redo", headers=headers)
    assert FrameBatch.from_wire(await api.read("r", "0")).to_atoms()[0] == edited[0]
    assert (await api.json("POST", "rooms/r/undo", 404, headers={"X-ZnDraw-Session": "bob"}))
    await api.json("POST", "rooms/r/undo", headers=headers)
    await api.json("POST", "rooms/r/undo", 404, headers=headers)  # the extend was not alice's


async def test_undo_of_a_structural_change(api):
    headers = {"X-ZnDraw-Session": "alice"}
    await api.create_room("r")
    await api.extend("r", make_atoms(3), base=0)
    before = (await api.read("r"))["ids"]
    await api.json("DELETE", "rooms/r/frames", params={"index": "0,2", "base_version": 1},
                   headers=headers)
    assert (await api.read("r"))["ids"] == before[1:2]
    await api.json("POST", "rooms/r/undo", headers=headers)
    assert (await api.read("r"))["ids"] == before


async def test_read_of_10000_frames_in_one_request(api):
    await api.create_room("r")
    rng = np.random.default_rng(1)
    positions = rng.random((10_000, 5, 3))
    body = codec.encode({"data": {"positions": {"values": positions},
                                  "numbers": {"values": np.ones((10_000, 5), dtype=np.int64)}}})
    await api.json("POST", "rooms/r/frames", 201, params={"base_version": 0}, body=body)
    message = await api.read("r", data="positions")
    np.testing.assert_array_equal(message["data"]["positions"]["values"], positions)
    assert len(message["ids"]) == 10_000


async def test_events_since(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(1), base=0)
    await api.extend("r", make_atoms(1, seed=2), base=1)
    events = await api.json("GET", "rooms/r/events", params={"since": 1})
    assert events["seq"] == 2 and not events["reload"]
    assert [e["type"] for e in events["events"]] == ["frames_inserted"]


async def test_leases_guard_writes(api):
    alice, bob = {"X-ZnDraw-Session": "alice"}, {"X-ZnDraw-Session": "bob"}
    await api.create_room("r")
    lease = await api.json("POST", "rooms/r/leases/order", json_body={"ttl": 30}, headers=alice)
    assert lease["holder"] == "alice"
    error = await api.json("POST", "rooms/r/frames", 423, params={"base_version": 0},
                           body=frame_body(make_atoms(1)), headers=bob)
    assert error["holder"] == "alice"
    await api.json("POST", "rooms/r/frames", 201, params={"base_version": 0},
                   body=frame_body(make_atoms(1)), headers=alice)
    assert (await api.json("DELETE", "rooms/r/leases/order", headers=alice))["released"]
    await api.json("POST", "rooms/r/frames", 201, params={"base_version": 1},
                   body=frame_body(make_atoms(1)), headers=bob)


async def test_select_reads_long_index_lists_from_the_body(api):
    await api.create_room("r")
    atoms = make_atoms(30)
    await api.extend("r", atoms, base=0)
    wanted = [int(i) for i in np.random.default_rng(3).integers(-30, 30, 5000)]
    response = await api.call("POST", "rooms/r/select", json_body={"index": wanted, "data": ["numbers"]})
    assert response.code == 200
    message = codec.decode(response.body, bounded=False)  # an answer of 5,000 frames
    assert list(message["indices"]) == [i % 30 for i in wanted]
    np.testing.assert_array_equal(message["data"]["numbers"]["values"][0], atoms[wanted[0]].numbers)
    await api.json("POST", "rooms/r/select", 400, json_body={"index": ["x"]})
    await api.json("POST", "rooms/r/select", 404, json_body={"index": [30]})


async def test_a_write_naming_the_frame_id_conflicts_when_the_order_moved(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(2), base=0)
    first = (await api.read("r", "0"))["ids"][0]
    await api.extend("r", make_atoms(1, seed=4), base=1, at=0)  # frame 0 is another one now
    error = await api.json("PUT", "rooms/r/frames/0", 409, params={"base_version": 1, "id": first},
                           body=frame_body(make_atoms(1, seed=5)))
    assert first in error["message"]
    await api.json("PUT", "rooms/r/frames/1", params={"base_version": 1, "id": first},
                   body=frame_body(make_atoms(1, seed=5)))


async def test_delete_with_a_body_and_empty_delete(api):
    await api.create_room("r")
    await api.extend("r", make_atoms(5), base=0)
    ids = (await api.read("r"))["ids"]
    await api.json("DELETE", "rooms/r/frames", params={"base_version": 1},
                   body=json.dumps({"index": [0, -1]}).encode())
    assert (await api.read("r"))["ids"] == ids[1:4]
    before = await api.json("GET", "rooms/r")
    await api.json("DELETE", "rooms/r/frames", params={"index": "3:3", "base_version": 2})
    after = await api.json("GET", "rooms/r")
    assert (after["order_version"], after["seq"]) == (before["order_version"], before["seq"])


async def test_a_lease_outranks_a_stale_version(api):
    await api.create_room("r")
    await api.json("POST", "rooms/r/leases/order", json_body={"ttl": 30},
                   headers={"X-ZnDraw-Session": "alice"})
    error = await api.json("POST", "rooms/r/frames", 423, params={"base_version": 7},
                           body=frame_body(make_atoms(1)), headers={"X-ZnDraw-Session": "bob"})
    assert error["holder"] == "alice"
    error = await api.json("DELETE", "rooms/r/frames", 423, params={"index": "0:1", "base_version": 7},
                           headers={"X-ZnDraw-Session": "bob"})


def splice_body(atoms_list=(), **positions) -> bytes:
    message = {key: np.asarray(value, dtype=np.int64) if isinstance(value, list) else value
               for key, value in positions.items()}
    if atoms_list:
        message.update(FrameBatch.from_atoms(list(atoms_list)).to_wire())
    return codec.encode(message)


async def test_a_splice_is_one_change_and_one_undo(api):
    await api.create_room("r")
    atoms = make_atoms(6, natoms=2)
    await api.extend("r", atoms[:4])
    seq = (await api.json("GET", "rooms/r"))["seq"]
    # frame 1 replaced, frames 2 and 3 deleted, two frames inserted at 2
    body = splice_body(atoms[4:6] + atoms[:1], update=[1], delete="2:4", insert=[2, 3])
    session = {"X-ZnDraw-Session": "editor"}
    reply = await api.json("POST", "rooms/r/splice", params={"base_version": 1}, body=body,
                           headers=session)
    assert reply["length"] == 4 and reply["seq"] == seq + 1
    read = await api.read("r")
    assert read["versions"].tolist() == [1, 2, 1, 1]
    np.testing.assert_allclose(read["data"]["positions"]["values"][1:],
                               np.stack([a.positions for a in atoms[4:6] + atoms[:1]]))
    events = await api.json("GET", "rooms/r/events", params={"since": seq})
    assert [e["type"] for e in events["events"]] == ["frames_spliced"]
    assert events["events"][0]["deleted"] == [2, 3] and events["events"][0]["updated"] == [1]
    await api.json("POST", "rooms/r/undo", headers=session)
    read = await api.read("r")
    np.testing.assert_allclose(read["data"]["positions"]["values"],
                               np.stack([a.positions for a in atoms[:4]]))
    stale = await api.json("POST", "rooms/r/splice", 409, params={"base_version": 1},
                           body=splice_body(delete=[0]))
    assert stale["current_version"] == 3


@pytest.mark.parametrize("message, frames, says", [
    ({"update": [0]}, 2, "2 frames sent for 1 updates"),
    ({"update": [0, 0]}, 2, "updated twice"),
    ({"update": [0], "delete": [0]}, 1, "both updated and deleted"),
    ({"insert": [-1]}, 1, "non-negative"),
    ({"delete": {"a": 1}}, 0, "'index'"),
])
async def test_bad_splices_change_nothing(api, message, frames, says):
    await api.create_room("r")
    atoms = make_atoms(3, natoms=2)
    await api.extend("r", atoms[:2])
    error = await api.json("POST", "rooms/r/splice", 400, params={"base_version": 1},
                           body=splice_body(atoms[:frames], **message))
    assert says in error["message"]
    assert (await api.json("GET", "rooms/r"))["seq"] == 1


async def test_a_repeated_splice_key_gets_the_first_answer_and_splices_once(api):
    await api.create_room("r")
    atoms = make_atoms(3, natoms=2)
    await api.extend("r", atoms[:2])
    post = {"params": {"base_version": 1}, "body": splice_body(atoms[2:], insert=[0]),
            "headers": {"X-ZnDraw-Session": "alice", "Idempotency-Key": "splice-1"}}
    first = await api.json("POST", "rooms/r/splice", **post)
    repeated = await api.json("POST", "rooms/r/splice", **post)  # the answer was lost
    assert (repeated["seq"], repeated["order_version"]) == (first["seq"], first["order_version"])
    assert (await api.json("GET", "rooms/r"))["length"] == 3
    other = {**post, "body": splice_body(delete=[0])}
    refused = await api.json("POST", "rooms/r/splice", 422, **other)
    assert refused["error"] == "idempotency_key_reused"


async def test_room_description_and_keeping_an_ephemeral_room(api):
    info = await api.create_room("e", description="scratch", ephemeral=True)
    assert info["description"] == "scratch" and info["expires"] > 0
    info = await api.json("PATCH", "rooms/e", json_body={"keep": True, "description": "kept"})
    assert (info["description"], info["expires"]) == ("kept", None)
    assert (await api.json("GET", "rooms"))["rooms"][0]["description"] == "kept"
    await api.json("PATCH", "rooms/e", 400, json_body={"description": 5})


async def test_a_repeated_idempotency_key_gets_the_first_answer_and_writes_once(api):
    await api.create_room("r")
    body = frame_body(make_atoms(3))
    headers = {"X-ZnDraw-Session": "alice", "Idempotency-Key": "upload-1"}
    post = {"params": {"base_version": 0}, "body": body, "headers": headers}
    first = await api.json("POST", "rooms/r/frames", 201, **post)
    assert await api.json("POST", "rooms/r/frames", 201, **post) == first  # the answer was lost
    assert (await api.json("GET", "rooms/r"))["length"] == 3

    put = {"params": {"base_version": 1}, "body": frame_body(make_atoms(1, seed=5)),
           "headers": {**headers, "Idempotency-Key": "put-1"}}
    replaced = await api.json("PUT", "rooms/r/frames/0", **put)
    assert await api.json("PUT", "rooms/r/frames/0", **put) == replaced
    undo = {"headers": {**headers, "Idempotency-Key": "undo-1"}}
    undone = await api.json("POST", "rooms/r/undo", **undo)
    repeated = await api.json("POST", "rooms/r/undo", **undo)
    assert (repeated["seq"], repeated["order_version"]) == (undone["seq"], undone["order_version"])
    alice = {"headers": {"X-ZnDraw-Session": "alice"}}
    await api.json("POST", "rooms/r/redo", **alice)  # the one undo was recorded once
    await api.json("POST", "rooms/r/redo", 404, **alice)
    assert list((await api.read("r", "0"))["versions"]) == [4]
    delete = {"params": {"index": "0", "base_version": 1},
              "headers": {**headers, "Idempotency-Key": "delete-1"}}
    deleted = await api.json("DELETE", "rooms/r/frames", **delete)
    assert await api.json("DELETE", "rooms/r/frames", **delete) == deleted
    info = await api.json("GET", "rooms/r")
    assert (info["length"], info["seq"]) == (2, deleted["seq"])


async def test_a_reused_idempotency_key_is_refused(api):
    await api.create_room("r")
    headers = {"X-ZnDraw-Session": "alice", "Idempotency-Key": "k"}
    await api.json("POST", "rooms/r/frames", 201, params={"base_version": 0},
                   body=frame_body(make_atoms(1)), headers=headers)
    refused = await api.json("POST", "rooms/r/frames", 422, params={"base_version": 1},
                             body=frame_body(make_atoms(1)), headers=headers)
    assert refused["error"] == "idempotency_key_reused" and refused["key"] == "k"
    other_session = {**headers, "X-ZnDraw-Session": "bob"}
    await api.json("POST", "rooms/r/frames", 422, params={"base_version": 0},
                   body=frame_body(make_atoms(1)), headers=other_session)
    bad = await api.json("POST", "rooms/r/frames", 400, params={"base_version": 1},
                         body=frame_body(make_atoms(1)),
                         headers={**headers, "Idempotency-Key": "a b"})
    assert "Idempotency-Key" in bad["message"]
    assert (await api.json("GET", "rooms/r"))["length"] == 1
