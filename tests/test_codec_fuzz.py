"""The msgpack codec under property-based fuzzing: round trips of arbitrary messages, and
arbitrary or corrupted bytes, which must end in a value or a BadRequest within the memory
budget (fixed seed, bounded examples: CI runs the same cases every time)."""

from __future__ import annotations

import tracemalloc

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from zndraw_widget import codec
from zndraw_widget.errors import BadRequest
from zndraw_widget.frames import FrameBatch

FUZZ = settings(derandomize=True, database=None, max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

arrays = st.sampled_from(sorted(codec.ALLOWED_DTYPES)).flatmap(
    lambda dtype: hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=0, max_dims=4,
                                                               min_side=0, max_side=4)))
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False) | st.text(max_size=20) | st.binary(max_size=20))
messages = st.recursive(
    scalars | arrays,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=5),
    max_leaves=20,
)


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def decode_measured(data: bytes) -> tuple[object, int]:
    """``codec.decode(data)`` (the value or the BadRequest) and the peak bytes it took."""
    tracemalloc.start()
    try:
        result = codec.decode(data)
    except BadRequest as error:
        result = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


def budget(data: bytes) -> int:
    return codec.MEMORY_FACTOR * len(data) + codec.MEMORY_SLACK


@FUZZ
@given(messages)
def test_any_message_round_trips(message):
    data = codec.encode(message)
    back = codec.decode(data)
    assert same(message, back)
    assert same(back, codec.decode(data, bounded=False))
    arrays_back = [v for v in (back.values() if isinstance(back, dict) else [back])
                   if isinstance(v, np.ndarray)]
    assert all(not a.flags.writeable for a in arrays_back)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_decode_or_are_refused_within_budget(data):
    result, peak = decode_measured(data)
    assert peak <= budget(data)


@st.composite
def corrupted(draw):
    """A valid message with bytes flipped, cut, inserted or a length field inflated."""
    data = bytearray(codec.encode(draw(messages)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "ff"]))
        if action == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        else:  # a header byte claiming a huge length
            data[where:where] = draw(st.sampled_from([b"\xdd\xff\xff\xff\xff", b"\xdf\x7f\xff\xff\xff",
                                                      b"\xdb\xff\xff\xff\xff", b"\xc9\xff\xff\xff\xff\x01"]))
    return bytes(data)


@FUZZ
@given(corrupted())
def test_corrupted_messages_decode_or_are_refused_within_budget(data):
    result, peak = decode_measured(data)
    assert peak <= budget(data)


def _array_of(count: int, item: bytes) -> bytes:
    return b"\xdd" + count.to_bytes(4, "big") + item * count


HOSTILE = {
    "empty arrays": _array_of(1 << 18, b"\x90"),
    "empty maps": _array_of(1 << 18, b"\x80"),
    "two-character strings": _array_of(1 << 16, b"\xa2ab"),
    "16-bit integers": _array_of(1 << 16, b"\xd1\x10\x00"),
    "nested strings": b"".join(_array_of(1 << 12, b"\xa2ab")[:-3] for _ in range(16)) + b"\x90",
    "empty arrays as ext": _array_of(1 << 13, codec.encode(np.zeros(0))),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_messages_are_refused_within_budget(name):
    data = HOSTILE[name]
    result, peak = decode_measured(data)
    assert isinstance(result, BadRequest), name
    assert peak <= budget(data), (name, peak / len(data))
    assert _decodes_unbounded(data)  # valid msgpack: only the limits refuse it


def _decodes_unbounded(data: bytes) -> bool:
    try:
        msgpack.unpackb(data, ext_hook=lambda code, payload: payload)
    except ValueError:
        return False
    return True


def test_depth_is_limited():
    deep = b"\x91" * codec.MAX_DEPTH + b"\x90"
    with pytest.raises(BadRequest, match=f"deeper than {codec.MAX_DEPTH}"):
        codec.decode(deep)
    assert codec.decode(deep[1:]) is not None
    with pytest.raises(BadRequest, match="deeper"):
        codec.decode(b"\x91" * 100_000 + b"\x90")


def test_length_headers_beyond_the_message_are_refused():
    for data in (b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xffab",
                 b"\xc6\xff\xff\xff\xff", b"\xc9\xff\xff\xff\xff\x01"):
        result, peak = decode_measured(data)
        assert isinstance(result, BadRequest) and peak <= codec.MEMORY_SLACK


def test_arrays_do_not_hold_on_to_the_message():
    data = codec.encode({"values": np.arange(1000, dtype=np.float64), "pad": b"x" * 100_000})
    array = codec.decode(data)["values"]
    assert array.base.nbytes < 10_000 and not array.flags.writeable


def test_a_batch_declaring_more_frames_than_its_bytes_is_refused():
    message = codec.decode(codec.encode({"data": {
        "positions": {"values": np.zeros((1_000_000, 0, 3))},
        "numbers": {"values": np.zeros((1_000_000, 0), dtype=np.int64)},
    }}))
    with pytest.raises(BadRequest, match="declares 1000000 frames"):
        FrameBatch.from_wire(message)
    one_atom = {"positions": np.zeros((1, 3), np.float32), "numbers": np.ones(1, np.uint8)}
    assert len(FrameBatch.from_wire(FrameBatch.from_frames([one_atom] * 3).to_wire())) == 3
