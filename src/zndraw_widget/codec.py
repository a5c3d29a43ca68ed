"""The msgpack wire format.

Numpy arrays travel as msgpack extension type 1 whose payload is::

    u8 header_length | msgpack [dtype, shape] | u8 pad | pad zero bytes | raw data

``dtype`` is a little-endian numpy type string (``"<f8"``, ``"|u1"``, ...), the data is
C-ordered, and ``pad`` is chosen so that the raw data starts at a multiple of 8 bytes from
the start of the message: a browser views it as a typed array without copying.

What a client sends is decoded within limits tied to its size (:func:`decode`): no message
makes the server hold more than ``MEMORY_FACTOR`` times its size in decoded values.
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack
import numpy as np

from .errors import BadRequest

NDARRAY_EXT = 1
ALIGNMENT = 8
ALLOWED_DTYPES = frozenset(
    np.dtype(t).str
    for t in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "<f4", "<f8")
)
_EXT32 = struct.Struct(">BIb")

MAX_DEPTH = 32
"""How deep containers may nest in a message a client sends (deeper: 400)."""
MEMORY_FACTOR = 2
"""A message a client sends may decode into this many times its size in Python objects
and arrays ..."""
MEMORY_SLACK = 1 << 16
"""... plus this many bytes, so that small messages never run short (more: 400)."""


def _wire_array(array: np.ndarray) -> np.ndarray:
    """The C-contiguous little-endian form of ``array``."""
    if array.dtype.str.startswith(">"):
        array = array.astype(array.dtype.newbyteorder("<"))
    if array.dtype.str not in ALLOWED_DTYPES:
        raise BadRequest(f"arrays of dtype {array.dtype} cannot be sent")
    return np.ascontiguousarray(array).reshape(array.shape)  # 0-d stays 0-d


class Encoder:
    """Encodes one message into a list of chunks, arrays as views (no copy)."""

    def __init__(self) -> None:
        self._packer = msgpack.Packer(default=_default, autoreset=True)
        self.chunks: list[bytes | memoryview] = []
        self.size = 0

    def _put(self, chunk: bytes | memoryview) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)

    def encode(self, obj: Any) -> None:
        if isinstance(obj, np.ndarray):
            self._array(obj)
        elif isinstance(obj, dict):
            self._put(self._packer.pack_map_header(len(obj)))
            for key, value in obj.items():
                self._put(self._packer.pack(key))
                self.encode(value)
        elif isinstance(obj, (list, tuple)) and any(
            isinstance(item, (np.ndarray, dict, list, tuple)) for item in obj
        ):
            self._put(self._packer.pack_array_header(len(obj)))
            for item in obj:
                self.encode(item)
        else:
            self._put(self._packer.pack(obj))

    def _array(self, array: np.ndarray) -> None:
        array = _wire_array(array)
        header = msgpack.packb([array.dtype.str, list(array.shape)])
        # ext32 header (6 bytes) + header length byte + header + pad byte, then data.
        before_pad = self.size + _EXT32.size + 1 + len(header) + 1
        pad = -before_pad % ALIGNMENT
        length = 1 + len(header) + 1 + pad + array.nbytes
        self._put(_EXT32.pack(0xC9, length, NDARRAY_EXT) + bytes([len(header)]) + header
                  + bytes([pad]) + bytes(pad))
        if array.nbytes:
            self._put(memoryview(array).cast("B"))

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot encode object of type {type(obj).__name__}")


def encode(obj: Any) -> bytes:
    """Encode ``obj`` (dicts, lists, scalars, strings, numpy arrays) as one message."""
    encoder = Encoder()
    encoder.encode(obj)
    return encoder.getvalue()


def encode_pieces(obj: Any) -> list[bytes | memoryview]:
    """Encode ``obj`` as pieces that, sent one after another, are one message: arrays stay
    views of their data, so a large message is never copied."""
    encoder = Encoder()
    encoder.encode(obj)
    return encoder.chunks


def _array(code: int, data: bytes | memoryview, copy: bool = False) -> np.ndarray:
    """The array of an extension of type ``code``: a read-only view of its payload ``data``,
    or with ``copy`` a read-only copy of it (so that a cached array never holds on to the
    rest of a message; numpy copies without holding the GIL, so a big one does not stall
    the event loop while a thread decodes)."""
    if code != NDARRAY_EXT:
        raise BadRequest(f"unknown msgpack extension type {code}")
    try:
        header_len = data[0]
        dtype_str, shape = msgpack.unpackb(data[1 : 1 + header_len], max_array_len=32,
                                           max_map_len=0)
        pad_at = 1 + header_len
        start = pad_at + 1 + data[pad_at]
        dtype = np.dtype(dtype_str)
        shape = tuple(int(s) for s in shape)
    except (IndexError, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise BadRequest(f"malformed array header: {exc}") from None
    if dtype.str not in ALLOWED_DTYPES:
        raise BadRequest(f"arrays of dtype {dtype_str!r} are not accepted")
    count = int(np.prod(shape, dtype=object))
    if any(s < 0 for s in shape) or len(data) - start != dtype.itemsize * count:
        raise BadRequest(f"array data does not match its shape {list(shape)} and dtype {dtype_str}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=start)
    if copy:
        array = array.copy()
        array.flags.writeable = False
    return array.reshape(shape)


def decode(data: bytes | bytearray | memoryview, *, bounded: bool = True) -> Any:
    """Decode one message; arrays come back as read-only numpy arrays.

    ``bounded`` (for anything a client sent): containers nest at most ``MAX_DEPTH`` deep and
    the values take at most ``MEMORY_FACTOR`` times the message's size (plus
    ``MEMORY_SLACK``), each checked before the memory is taken. Else, and for any malformed
    message, :class:`BadRequest`. Unbounded is for
    what this package wrote itself (stored segments, the server's answers): faster on
    messages of many small values.
    """
    try:
        if bounded:
            return _BoundedDecoder(data).decode()
        return msgpack.unpackb(data, ext_hook=_array, raw=False, strict_map_key=False)
    except BadRequest:
        raise
    except (ValueError, TypeError, struct.error, msgpack.UnpackException) as exc:
        raise BadRequest(f"malformed msgpack body: {exc}") from None


# Costs charged against the budget, in bytes, a little above CPython's own sizes.
_LIST_COST, _DICT_COST, _ENTRY_COST, _POINTER = 72, 80, 64, 8
_STR_COST, _NUMBER_COST, _ARRAY_COST = 80, 32, 256
_SCALARS = {  # type byte: struct format of the number
    0xCA: ">f", 0xCB: ">d", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
    0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
}
_LENGTHS = {  # type byte: (struct format of the length, kind)
    0xC4: (">B", "bin"), 0xC5: (">H", "bin"), 0xC6: (">I", "bin"),
    0xC7: (">B", "ext"), 0xC8: (">H", "ext"), 0xC9: (">I", "ext"),
    0xD9: (">B", "str"), 0xDA: (">H", "str"), 0xDB: (">I", "str"),
    0xDC: (">H", "array"), 0xDD: (">I", "array"), 0xDE: (">H", "map"), 0xDF: (">I", "map"),
}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_CONSTANTS = {0xC0: None, 0xC2: False, 0xC3: True}
_NO_KEY = object()


class _BoundedDecoder:
    """Decodes one message without recursion, checking every container's length, depth and
    cost before it is made (a container's length is bounded by the bytes left, its cost by
    the budget), and every value's cost as it is made."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.view = memoryview(data).cast("B")
        self.size = len(self.view)
        self.left = MEMORY_FACTOR * self.size + MEMORY_SLACK
        self.pos = 0

    def charge(self, cost: int) -> None:
        self.left -= cost
        if self.left < 0:
            raise BadRequest(
                f"the message of {self.size} bytes decodes into more than {MEMORY_FACTOR} "
                "times its size: send numbers as arrays, not as many small values "
                "(docs/protocol.md)", limit_factor=MEMORY_FACTOR)

    def take(self, count: int) -> memoryview:
        end = self.pos + count
        if end > self.size:
            raise BadRequest("malformed msgpack body: the message ends inside a value")
        chunk = self.view[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def decode(self) -> Any:
        stack: list[list[Any]] = []  # [container, items still to come, pending map key]
        while True:
            value = self.value(len(stack))
            if isinstance(value, tuple):  # the header of a non-empty container
                container, count = value
                stack.append([container, count, _NO_KEY])
                continue
            while stack:  # put the value in its container; close the full ones
                top = stack[-1]
                container = top[0]
                if type(container) is list:
                    container.append(value)
                elif top[2] is _NO_KEY:
                    top[2] = value
                    break
                else:
                    container[top[2]] = value
                    top[2] = _NO_KEY
                top[1] -= 1
                if top[1]:
                    break
                value = stack.pop()[0]
            else:
                if self.pos != self.size:
                    raise BadRequest(f"malformed msgpack body: {self.size - self.pos} bytes "
                                     "after the message")
                return value

    def value(self, depth: int) -> Any:
        """The next value, or ``(container, count)`` for a non-empty container to fill."""
        code = self.take(1)[0]
        if code <= 0x7F or code >= 0xE0:
            return code if code <= 0x7F else code - 0x100
        if 0xA0 <= code <= 0xBF:
            return self.string(code & 0x1F)
        if 0x80 <= code <= 0x9F:
            return self.container("map" if code <= 0x8F else "array", code & 0x0F, depth)
        if code in _CONSTANTS:
            return _CONSTANTS[code]
        if code in _SCALARS:
            number = self.unpack(_SCALARS[code])
            if type(number) is float or not -5 <= number <= 256:
                self.charge(_NUMBER_COST)
            return number
        if code in _FIXEXT:
            return self.ext(_FIXEXT[code])
        if code not in _LENGTHS:
            raise BadRequest(f"malformed msgpack body: invalid type byte 0x{code:02x}")
        fmt, kind = _LENGTHS[code]
        length = self.unpack(fmt)
        if kind == "str":
            return self.string(length)
        if kind == "bin":
            self.charge(_STR_COST + length)
            return bytes(self.take(length))
        if kind == "ext":
            return self.ext(length)
        return self.container(kind, length, depth)

    def string(self, length: int) -> str:
        self.charge(_STR_COST + length)
        return str(self.take(length), "utf-8")

    def ext(self, length: int) -> np.ndarray:
        code = struct.unpack(">b", self.take(1))[0]
        self.charge(_ARRAY_COST + length)
        return _array(code, self.take(length), copy=True)

    def container(self, kind: str, count: int, depth: int) -> Any:
        if depth >= MAX_DEPTH:
            raise BadRequest(f"the message nests deeper than {MAX_DEPTH} levels")
        per_item = 1 if kind == "array" else 2  # bytes each item takes at least
        if count * per_item > self.size - self.pos:
            raise BadRequest(f"malformed msgpack body: an {kind} of {count} items in "
                             f"{self.size - self.pos} bytes")
        if kind == "array":
            self.charge(_LIST_COST + _POINTER * count)
            container: list | dict = []
        else:
            self.charge(_DICT_COST + _ENTRY_COST * count)
            container = {}
        return (container, count) if count else container
