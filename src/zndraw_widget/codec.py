"""The msgpack wire format.

Numpy arrays travel as msgpack extension type 1 whose payload is::

    u8 header_length | msgpack [dtype, shape] | u8 pad | pad zero bytes | raw data

``dtype`` is a little-endian numpy type string (``"<f8"``, ``"|u1"``, ...), the data is
C-ordered, and ``pad`` is chosen so that the raw data starts at a multiple of 8 bytes from
the start of the message: a browser views it as a typed array without copying.
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


def _wire_array(array: np.ndarray) -> np.ndarray:
    """The C-contiguous little-endian form of ``array``."""
    if array.dtype.str.startswith(">"):
        array = array.astype(array.dtype.newbyteorder("<"))
    if array.dtype.str not in ALLOWED_DTYPES:
        raise BadRequest(f"arrays of dtype {array.dtype} cannot be sent")
    return np.ascontiguousarray(array)


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


def _ext_hook(code: int, data: bytes) -> Any:
    if code != NDARRAY_EXT:
        raise BadRequest(f"unknown msgpack extension type {code}")
    try:
        header_len = data[0]
        dtype_str, shape = msgpack.unpackb(data[1 : 1 + header_len])
        pad_at = 1 + header_len
        start = pad_at + 1 + data[pad_at]
        dtype = np.dtype(dtype_str)
        shape = tuple(int(s) for s in shape)
    except (IndexError, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise BadRequest(f"malformed array header: {exc}") from None
    if dtype.str not in ALLOWED_DTYPES:
        raise BadRequest(f"arrays of dtype {dtype_str!r} are not accepted")
    if any(s < 0 for s in shape) or len(data) - start != dtype.itemsize * int(np.prod(shape)):
        raise BadRequest(f"array data does not match its shape {list(shape)} and dtype {dtype_str}")
    return np.frombuffer(data, dtype=dtype, offset=start).reshape(shape)


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode one message; arrays come back as read-only numpy arrays."""
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except BadRequest:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise BadRequest(f"malformed msgpack body: {exc}") from None
