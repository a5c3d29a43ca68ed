"""Compact per-frame state for the :class:`~zndraw_widget.state.memory.MemoryStore`: frame
ids, versions, content hashes and locations held in numpy arrays instead of a Python object
per value (about 1.1 KB per frame as dicts, lists and strings; about 150 bytes so).

- ids are UTF-8 bytes in a fixed-width ``S`` array (16 bytes for the server's 16-hex ids);
- a content hash ``sha256:<64 hex>`` is ``\\x01`` + its 32 raw bytes, any other hash its
  UTF-8 bytes;
- a location ``<segment>/<row>`` is one integer: the segment's number in the store's
  table of segment names (:class:`Segments`) and the row;
- lookups by key go through :class:`KeyIndex`, a sorted array searched with
  ``np.searchsorted`` plus a small dict of recent changes merged in now and then.

Numpy's ``S`` arrays drop trailing NUL bytes, so an id or hash ending in ``"\\x00"`` (or a
hash starting with ``"\\x01"``) cannot be held: :func:`key` refuses it, and looking one up
finds nothing. The server's ids and hashes never are such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

_SHA256 = "sha256:"
_DIGEST = b"\x01"
_ROW = 1 << 32  # a location is segment * _ROW + row + 1 (0: a location without a row)
_POWERS = 10 ** np.arange(1, 10)  # a row of k digits is at least _POWERS[k - 2]


def key(text: str) -> bytes:
    """``text`` (an id or an odd hash) as the bytes an ``S`` array holds exactly."""
    data = text.encode()
    if data.endswith(b"\x00"):
        raise ValueError(f"{text!r} ends with a NUL character, which the state cannot hold")
    return data


def hash_key(text: str) -> bytes:
    """A content hash as stored: ``sha256:`` hashes as their raw digest."""
    if text.startswith(_SHA256) and len(text) == 71:
        try:
            digest = bytes.fromhex(text[7:])
        except ValueError:
            digest = b""
        if digest.hex() == text[7:]:  # lower case only: it must come back the same
            return _DIGEST + digest
    if text.startswith("\x01"):
        raise ValueError(f"{text!r} starts with \\x01, which the state cannot hold as a hash")
    return key(text)


def hash_text(data: bytes) -> str:
    """The content hash stored as ``data`` (see :func:`hash_key`)."""
    if data.startswith(_DIGEST):
        return _SHA256 + data[1:].ljust(32, b"\x00").hex()
    return data.decode()


def ids_array(texts: Sequence[str]) -> np.ndarray:
    """Ids (or other texts) as an ``S`` array, as :func:`key` makes each."""
    joined = "".join(texts)
    if texts and joined and joined.isascii() and "\x00" not in joined \
            and len(set(map(len, texts))) == 1:  # all as long: one pass
        return np.frombuffer(joined.encode(), dtype=f"S{len(texts[0])}")
    return keys_array(key(text) for text in texts)


def hashes_array(texts: Sequence[str]) -> np.ndarray:
    """Content hashes as an ``S`` array, as :func:`hash_key` makes each."""
    if texts and all(t.startswith(_SHA256) and len(t) == 71 for t in texts):
        digits = "".join(t[7:] for t in texts)
        try:
            digests = bytes.fromhex(digits)
        except ValueError:
            digests = b""
        if len(digests) == 32 * len(texts) and digests.hex() == digits:
            tagged = np.empty((len(texts), 33), dtype=np.uint8)
            tagged[:, 0] = _DIGEST[0]
            tagged[:, 1:] = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)
            return tagged.view("S33").reshape(-1)
    return keys_array(hash_key(text) for text in texts)


def lookup_keys(texts: Sequence[str], hashes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Ids (or, with ``hashes``, content hashes) encoded for a lookup, and a mask of those
    that can be held at all (the others are in no table)."""
    try:
        return (hashes_array if hashes else ids_array)(texts), np.ones(len(texts), dtype=bool)
    except ValueError:  # one cannot be held: the others one by one
        encoded, held = [], []
        for text in texts:
            try:
                encoded.append((hash_key if hashes else key)(text))
                held.append(True)
            except ValueError:
                encoded.append(b"")
                held.append(False)
        return keys_array(encoded), np.array(held, dtype=bool)


def keys_array(values: Iterable[bytes]) -> np.ndarray:
    """An ``S`` array of ``values`` (``S1`` if there are none)."""
    array = np.array(list(values), dtype=bytes)
    return array if array.size else array.astype("S1")


def _widen(array: np.ndarray, width: int) -> np.ndarray:
    return array if array.dtype.itemsize >= width else array.astype(f"S{width}")


class Segments:
    """The names of storage segments, numbered; locations are integers through them."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names: list[str] = list(names)
        self._number = {name: k for k, name in enumerate(self.names)}

    def _intern(self, name: str) -> int:
        number = self._number.get(name)
        if number is None:
            number = self._number[name] = len(self.names)
            self.names.append(name)
        return number

    def encode(self, location: str) -> int:
        """``location`` as an integer (``<segment>/<row>`` with a plain decimal row, or any
        other text as a name of its own)."""
        segment, slash, row = location.rpartition("/")
        if slash and row.isascii() and row.isdigit() and str(int(row)) == row \
                and int(row) < _ROW - 1:
            return self._intern(segment) * _ROW + int(row) + 1
        return self._intern(location) * _ROW

    def encode_all(self, locations: Sequence[str]) -> np.ndarray:
        """:meth:`encode` of each location, at once for ``<segment>/<row>`` ones."""
        parts = [location.rpartition("/") for location in locations]
        rows = list(map(itemgetter(2), parts))
        digits = "".join(rows)
        if parts and digits.isascii() and digits.isdigit() and all(map(itemgetter(1), parts)):
            lengths = np.fromiter(map(len, rows), np.int64, len(rows))
            if lengths.min() >= 1 and lengths.max() < 10:
                values = np.array(rows).astype(np.int64)
                if np.array_equal(lengths, np.searchsorted(_POWERS, values, "right") + 1):
                    # (no leading zeros: each row comes back as it was)
                    number = {name: self._intern(name)
                              for name in dict.fromkeys(map(itemgetter(0), parts))}
                    names = np.array([number[part[0]] for part in parts], dtype=np.int64)
                    return names * _ROW + values + 1
        return np.array([self.encode(location) for location in locations], dtype=np.int64)

    def decode(self, code: int) -> str:
        segment, row = divmod(int(code), _ROW)
        return self.names[segment] if row == 0 else f"{self.names[segment]}/{row - 1}"

    def segments(self, codes: np.ndarray) -> set[str]:
        """The storage segments the locations ``codes`` name (as :func:`segments_in`)."""
        found = set()
        for code in np.unique(codes).tolist():
            segment, slash, row = self.decode(code).rpartition("/")
            if slash and row.isdigit():
                found.add(segment)
        return found

    def dead(self, codes: np.ndarray, segments: set[str]) -> np.ndarray:
        """Which of the locations ``codes`` lie in one of ``segments`` (whose text, up to
        its last ``/``, is one of them)."""
        numbers, rows = np.divmod(codes, _ROW)
        named = np.array([name in segments for name in self.names] + [False], dtype=bool)
        whole = np.array([name.rpartition("/")[0] in segments for name in self.names] + [False],
                         dtype=bool)
        return np.where(rows > 0, named[numbers], whole[numbers])


class KeyIndex:
    """A map of byte strings (the values of an ``S`` array) to integers >= 0, held as a
    sorted array of keys with their values; changes collect in a dict and are merged in
    once it holds more than a sixteenth of the keys, so a change costs O(1) amortised
    besides the merge's O(n) copies, and a lookup O(log n)."""

    def __init__(self, keys: np.ndarray | None = None, values: np.ndarray | None = None
                 ) -> None:
        self.keys = keys if keys is not None else np.empty(0, dtype="S1")
        self.values = values if values is not None else np.empty(0, dtype=np.int64)
        self._recent: dict[bytes, int] = {}  # -1: removed

    def __len__(self) -> int:
        self.merge()
        return len(self.keys)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where it has none."""
        found = np.full(len(keys), -1, dtype=np.int64)
        if len(self.keys) and len(keys):
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            hit = self.keys[at] == keys
            found[hit] = self.values[at[hit]]
        if self._recent and len(keys) < len(self._recent):  # few keys: one dict look-up each
            for k, key_ in enumerate(keys.tolist()):
                found[k] = self._recent.get(key_, found[k])
        elif self._recent and len(keys):
            recent = keys_array(self._recent)
            order = np.argsort(recent)
            recent, values = recent[order], np.fromiter(self._recent.values(), np.int64)[order]
            at = np.minimum(np.searchsorted(recent, keys), len(recent) - 1)
            hit = recent[at] == keys
            found[hit] = values[at[hit]]
        return found

    def set(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Map each of ``keys`` to its value (-1: remove it; of a key given twice, the
        last)."""
        if len(keys) > 256:  # a big change goes into the arrays at once
            self.merge()
            backwards = keys[::-1]
            keys, first = np.unique(backwards, return_index=True)
            self._merge(keys, values[::-1][first])
            return
        self._recent.update(zip(keys.tolist(), values.tolist(), strict=True))
        if len(self._recent) > max(1024, len(self.keys) // 16):
            self.merge()

    def merge(self) -> None:
        """Fold the recent changes into the sorted arrays."""
        if self._recent:
            keys = keys_array(self._recent)
            values = np.fromiter(self._recent.values(), np.int64, len(self._recent))
            self._recent = {}
            self._merge(keys, values)

    def _merge(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Fold in distinct ``keys`` with their values."""
        width = max(keys.dtype.itemsize, self.keys.dtype.itemsize)
        keys = _widen(keys, width)
        main = _widen(self.keys, width)
        at = np.minimum(np.searchsorted(main, keys), max(len(main) - 1, 0))
        hit = (main[at] == keys) if len(main) else np.zeros(len(keys), dtype=bool)
        self.values = writable(self.values)
        self.values[at[hit]] = values[hit]
        removed = at[hit & (values < 0)]
        if len(removed):
            main = np.delete(main, removed)
            self.values = np.delete(self.values, removed)
        new = ~hit & (values >= 0)
        if new.any():
            order = np.argsort(keys[new])
            added, added_values = keys[new][order], values[new][order]
            at = np.searchsorted(main, added)
            main = np.insert(main, at, added)
            self.values = np.insert(self.values, at, added_values)
        self.keys = main

    def drop(self, unwanted: np.ndarray) -> None:
        """Remove the keys whose value is flagged in ``unwanted`` (a mask over
        :attr:`values`, after :meth:`merge`)."""
        self.keys, self.values = self.keys[~unwanted], self.values[~unwanted]

    def state(self) -> dict[str, Any]:
        self.merge()
        return {"keys": pack(self.keys), "values": pack(self.values)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> KeyIndex:
        return cls(unpack(state["keys"]), unpack(state["values"]))


def pack(array: np.ndarray) -> list[Any]:
    """An array as msgpack takes it: ``[dtype, raw bytes]``."""
    return [array.dtype.str, array.tobytes()]


def unpack(packed: list[Any]) -> np.ndarray:
    """The array of :func:`pack`, read-only on ``packed``'s bytes (see :func:`writable`)."""
    dtype, data = packed
    return np.frombuffer(data, dtype=dtype)


def writable(array: np.ndarray) -> np.ndarray:
    """``array``, copied first if it is read-only (loaded by :func:`unpack`)."""
    return array if array.flags.writeable else array.copy()
