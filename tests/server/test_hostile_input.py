"""Hostile and random request bodies against a real standalone server: every answer is a
success or a 4xx with a JSON body naming the problem, never a 5xx, and a refused write
leaves the room as it was (fixed seed, bounded examples)."""

from __future__ import annotations

import json

import httpx
import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tornado import websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import _standalone_fetch, make_atoms

FUZZ = settings(derandomize=True, database=None, max_examples=20, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
ROOM = "fuzz"


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as client:
        assert client.post("rooms", json={"name": ROOM, "base": None}).status_code == 201
        yield client


def state(http: httpx.Client) -> tuple:
    """What a refused write must not change: the room's versions and its frames' content."""
    info = http.get(f"rooms/{ROOM}").json()
    read = codec.decode(http.get(f"rooms/{ROOM}/frames").content, bounded=False)
    return info["length"], info["seq"], info["order_version"], read["hashes"]


def ensure_frames(http: httpx.Client, count: int = 2) -> None:
    length, _, order, _ = state(http)
    if length < count:
        body = codec.encode(FrameBatch.from_atoms(make_atoms(count - length)).to_wire())
        assert http.post(f"rooms/{ROOM}/frames", params={"base_version": order},
                         content=body).status_code == 201


def frame_version(http: httpx.Client, index: int) -> int:
    return http.get(f"rooms/{ROOM}/frames/{index}/history").json()["versions"][-1]["version"]


def check_answer(response: httpx.Response, before: tuple, http: httpx.Client) -> None:
    assert response.status_code < 300 or 400 <= response.status_code < 500, (
        response.status_code, response.text)
    if response.status_code >= 400:
        error = response.json()
        assert error["error"] and error["message"], error
        assert state(http) == before


# -- bodies ---------------------------------------------------------------------------------
FIELDS = st.sampled_from(["positions", "numbers", "cell", "pbc", "arrays.colors", "info.step",
                          "calc.energy", "calc.forces", "bad name", "arrays."])
column_arrays = st.sampled_from(sorted(codec.ALLOWED_DTYPES)).flatmap(
    lambda dtype: hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=1, max_dims=3,
                                                               min_side=0, max_side=4)))
plain = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
columns = st.fixed_dictionaries({}, optional={
    "values": column_arrays, "shapes": column_arrays, "present": column_arrays,
    "objects": st.lists(plain, max_size=4), "junk": plain})
batches = st.fixed_dictionaries({"data": st.dictionaries(FIELDS, columns, max_size=4)})


def valid_batch(count: int) -> dict:
    return FrameBatch.from_atoms(make_atoms(count, seed=count)).to_wire()


@st.composite
def mutated(draw, count: int) -> bytes:
    """A valid batch of ``count`` frames with bytes flipped, cut or inserted."""
    data = bytearray(codec.encode(valid_batch(count)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            data[where] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[where:]
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=6))
    return bytes(data)


def msgpack_bodies(count: int):
    return (batches.map(codec.encode) | mutated(count) | st.binary(max_size=200)
            | st.just(b"\x91" * 100 + b"\x90") | st.just(b"\xdd\x00\x01\x00\x00" + b"\x90" * 2**16))


json_values = st.recursive(plain | st.floats(allow_nan=False),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                           max_leaves=10)
json_bodies = (st.dictionaries(st.sampled_from(["index", "data", "name"]), json_values,
                               max_size=3).map(lambda v: json.dumps(v).encode())
               | st.binary(max_size=100)
               | st.integers(33, 5000).map(lambda d: b'{"index": ' + b"[" * d + b"]" * d + b"}"))


# -- the write handlers under fuzzing ----------------------------------------------------------
@FUZZ
@given(body=msgpack_bodies(3))
def test_post_frames(http, body):
    ensure_frames(http)
    before = state(http)
    response = http.post(f"rooms/{ROOM}/frames", params={"base_version": before[2]},
                         content=body)
    check_answer(response, before, http)


@FUZZ
@given(body=msgpack_bodies(1), method=st.sampled_from(["PUT", "PATCH"]))
def test_put_and_patch_frame(http, body, method):
    ensure_frames(http)
    before = state(http)
    response = http.request(method, f"rooms/{ROOM}/frames/1",
                            params={"base_version": frame_version(http, 1)}, content=body)
    check_answer(response, before, http)


@FUZZ
@given(body=json_bodies)
def test_select(http, body):
    ensure_frames(http)
    before = state(http)
    response = http.post(f"rooms/{ROOM}/select", content=body)
    check_answer(response, before, http)
    if response.status_code == 200:
        codec.decode(response.content, bounded=False)


@FUZZ
@given(body=json_bodies)
def test_delete_frames(http, body):
    ensure_frames(http)
    before = state(http)
    response = http.request("DELETE", f"rooms/{ROOM}/frames",
                            params={"base_version": before[2]}, content=body)
    check_answer(response, before, http)


# -- the limits, each named in its answer ------------------------------------------------------
HOSTILE = {  # name: (method, path, body, the problem the answer names)
    "deep JSON select": ("POST", "select", b'{"index": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                         "nests too deeply"),
    "deep JSON delete": ("DELETE", "frames", b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
    "empty arrays": ("POST", "frames", b"\xdd\x00\x40\x00\x00" + b"\x90" * (1 << 22),
                     "more than 2 times"),
    "deep msgpack": ("POST", "frames", b"\x91" * 100_000 + b"\x90", "deeper than 32"),
    "zero-atom frames": ("POST", "frames", codec.encode({"data": {
        "positions": {"values": np.zeros((1_000_000, 0, 3))},
        "numbers": {"values": np.zeros((1_000_000, 0), dtype=np.int64)}}}),
        "declares 1000000 frames"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_bodies_get_a_400_naming_the_problem(http, name):
    method, path, body, problem = HOSTILE[name]
    ensure_frames(http)
    before = state(http)
    response = http.request(method, f"rooms/{ROOM}/{path}", params={"base_version": before[2]},
                            content=body)
    assert response.status_code == 400, response.text
    assert problem in response.json()["message"]
    assert state(http) == before


async def test_control_messages_are_decoded_within_the_same_limits(tmp_path):
    server, fetch = _standalone_fetch(tmp_path)
    try:
        url = fetch.url.replace("http", "ws", 1) + "ws?token=secret-token"
        connection = await websocket.websocket_connect(url)
        assert msgpack.unpackb(await connection.read_message())["type"] == "hello"
        await connection.write_message(b"\x81\xa4type" + b"\x91" * 40 + b"\x90", binary=True)
        reply = msgpack.unpackb(await connection.read_message())
        assert reply["ok"] is False and "deeper than 32" in reply["message"]
        connection.close()
    finally:
        server.stop()
