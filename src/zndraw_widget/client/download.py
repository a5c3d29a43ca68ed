"""``Room.export``: a room's frames downloaded as a file (``GET rooms/<room>/export``)."""

from __future__ import annotations

import codecs
import io
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from ..errors import ZnDrawError
from ..formats import resolve_format
from .indexing import key_text, normalize
from .upload import Progress

if TYPE_CHECKING:
    from .http import HttpClient

Target = str | os.PathLike[str] | IO[Any]


def format_for(target: Target, format: str | None) -> str:
    """The ase format to export ``target`` in: ``format``, or the one its file name says
    (:func:`~zndraw_widget.formats.resolve_format`)."""
    name = target if isinstance(target, (str, os.PathLike)) else getattr(target, "name", None)
    if not isinstance(name, (str, os.PathLike)):
        name = None
        if not format:
            raise ValueError("cannot tell the format of a file object without a name: pass "
                             "format=, e.g. room.export(f, format='extxyz')")
    return resolve_format(name, format, write=True,
                          hint="pass format=, an ase format name ase writes such as 'extxyz', "
                               "'traj' or 'h5md'")


def index_text(index: Any) -> str | None:
    """``index`` (an int, a slice or a list of ints; None: every frame) as the query's
    ``index``."""
    return None if index is None else key_text(normalize(index))


def download(http: HttpClient, path: str, target: Target, format: str | None,
             index: Any, progress: bool | None) -> int:
    """Stream ``GET <path>/export`` into ``target`` (a path, or a binary or text file
    object); the number of frames written. A path is removed again if the export fails."""
    params = {"format": format_for(target, format)}
    if (text := index_text(index)) is not None:
        params["index"] = text
    if isinstance(target, (str, os.PathLike)):
        destination = Path(target)
        try:
            with open(destination, "wb") as file:
                return download(http, path, file, params["format"], index, progress)
        except BaseException:
            destination.unlink(missing_ok=True)
            raise
    bar, received = Progress(None, progress, unit="B", desc="export"), 0
    try:
        with http.stream(f"{path}/export", params=params) as response:
            write = _writer(target)
            try:
                for piece in response.iter_bytes():
                    write(piece)
                    received += len(piece)
                    bar.update(len(piece), len(piece))
                write(b"", final=True)
            except httpx.TransportError as error:
                raise ZnDrawError(f"the export of {path} broke off after {received} bytes "
                                  f"({error}): the server failed while writing it; see its "
                                  "log, or export fewer frames") from None
            return int(response.headers.get("X-ZnDraw-Frames", 0))
    finally:
        bar.close()


def _writer(target: IO[Any]) -> Any:
    """A function writing bytes to ``target``: text files get them decoded (UTF-8)."""
    if not isinstance(target, io.TextIOBase):
        return lambda piece, final=False: target.write(piece)
    decoder = codecs.getincrementaldecoder("utf-8")()
    return lambda piece, final=False: target.write(decoder.decode(piece, final))
