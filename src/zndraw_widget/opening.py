"""``zndraw-widget open FILE...``: trajectory files into a room, shown in the browser.

The files are read and uploaded client-side (:mod:`zndraw_widget.client.files`: frame by
frame, in batches, with a progress bar) into a room of the server at ``--url``, or of a
standalone server this command starts (``cli.py``) and keeps serving. The browser opens at
the room's page once its first frames are in.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from .client.discovery import api_url
from .client.files import room_to_fill, upload_file
from .errors import ZnDrawError
from .formats import iter_atoms


def default_room_name(path: str | os.PathLike[str]) -> str:
    """A room name from a file name: ``md-run`` for ``md-run.traj``."""
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "-", Path(path).stem).strip("-.")[:80]
    return stem if stem and stem[0].isalnum() else f"file-{stem}".strip("-")[:80]


def page_url(base: str, room: str, token: str | None) -> str:
    """The standalone server's page of ``room`` (``base``: the server's root URL)."""
    page = api_url(base).removesuffix("zndraw/api/") + f"rooms/{quote(room, safe='')}"
    return f"{page}?{urlencode({'token': token})}" if token else page


def check_files(files: Sequence[str], format: str | None, topology: str | None) -> None:
    """Raise ``FileNotFoundError`` / ``ValueError`` / ``ImportError`` for a file that
    cannot be opened, before anything is started or uploaded."""
    for path in files:
        iter_atoms(path, format=format, topology=topology).close()


def upload(files: Sequence[str], url: str, token: str | None, room: str | None,
           format: str | None, topology: str | None, browser: bool) -> str:
    """Upload ``files`` (in order, into one room) to the server at ``url``; open the
    browser at the room's page once the first frames are in. The room's page URL.

    Without ``room`` the room is named after the first file (with a suffix if taken);
    ``room`` names a room to append to, made if missing. A room made here is deleted again
    if the upload fails."""
    name, unique = (room, False) if room else (default_room_name(files[0]), True)
    opened = threading.Event()
    with room_to_fill(name, url, token, unique=unique) as target:
        page = page_url(target.url, target.name, target.endpoint.token)

        def first_frames(count: int) -> None:
            if count and not opened.is_set():
                opened.set()
                print(f"room {target.name!r}: {page}", flush=True)
                if browser:
                    webbrowser.open(page)

        for path in files:
            upload_file(target, path, format=format, topology=topology, progress=True,
                        on_written=first_frames)
        print(f"{len(target)} frames in room {target.name!r}: {page}", flush=True)
        target.close()
    return page


def report(error: BaseException) -> int:
    """Print ``error`` as the command's error; its exit code."""
    print(f"zndraw-widget open: error: {error}", file=sys.stderr, flush=True)
    return 1


EXPECTED = (OSError, ValueError, ImportError, ZnDrawError)
"""What a bad file, a bad format or an unreachable server raise (reported, exit code 1)."""
