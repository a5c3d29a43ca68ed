"""``Viewer.save_html``: one self-contained HTML page that plays frames back with no server
and no kernel (from a file:// URL, an e-mail attachment, a web page).

The page holds the front end bundle and the frames as one read response in today's msgpack
wire format (``docs/protocol.md``), both base64-encoded; the viewer reads them through its
page transport (``js/static.ts``) exactly as it reads a room.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import codec
from .client.upload import to_frame
from .frames import FrameBatch

#: The frames' encoded size a page may hold by default (MB); browsers decode the page whole.
MAX_MB = 50.0
#: The largest snapshot kept in a viewer's widget state (bytes).
SNAPSHOT_BYTES = 1 << 20

#: The small in-page stand-in for a widget model that a page without a kernel mounts the
#: bundle with (``state`` holds the traits); the full page and the saved HTML page share it.
IN_PAGE_MODEL = """const listeners = new Map();
const model = {
  get: (name) => state[name],
  set: (name, value) => { state[name] = value; },
  save_changes: () => {},
  on: (event, callback) => listeners.set(event, [...(listeners.get(event) || []), callback]),
  off: (event, callback) =>
    listeners.set(event, (listeners.get(event) || []).filter((c) => c !== callback)),
};"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html, body {{ margin: 0; }}</style>
</head><body>
<div id="viewer"></div>
<script type="application/base64" id="zndraw-bundle">{bundle}</script>
<script type="application/base64" id="zndraw-frames">{frames}</script>
<script type="module">
const bytes = async (id) => new Uint8Array(await (await fetch(
  "data:application/octet-stream;base64," + document.getElementById(id).textContent)).arrayBuffer());
const state = {{ ...{state}, frames: await bytes("zndraw-frames") }};
{model}
const code = new Blob([await bytes("zndraw-bundle")], {{ type: "text/javascript" }});
const {{ default: widget }} = await import(URL.createObjectURL(code));
widget.render({{ model, el: document.getElementById("viewer") }});
</script></body></html>
"""


def read_message(frames: Iterable[Any]) -> bytes:
    """``frames`` (``ase.Atoms`` or frame mappings) as one read response of all of them."""
    converted = [to_frame(frame) for frame in frames]
    if not converted:
        raise ValueError("there are no frames to save")
    batch = FrameBatch.from_frames(converted)
    batch.validate()
    count = len(batch)
    return codec.encode({
        "length": count, "seq": 0, "order_version": 0,
        "indices": np.arange(count, dtype=np.int64),
        "ids": [f"frame-{i}" for i in range(count)],
        "versions": np.ones(count, dtype=np.int64),
        "hashes": [""] * count,
        **batch.to_wire(),
    })


def snapshot(frame: Any) -> bytes:
    """One frame as a read response for the widget state (b"" if over SNAPSHOT_BYTES)."""
    message = read_message([frame])
    return message if len(message) <= SNAPSHOT_BYTES else b""


def write_page(path: str | os.PathLike, frames: Iterable[Any], bundle: bytes,
               traits: Mapping[str, Any], title: str, max_mb: float = MAX_MB) -> Path:
    """Write the page showing ``frames`` with the viewer's ``traits`` to ``path``;
    ``ValueError`` saying what to do when the frames exceed ``max_mb``."""
    message = read_message(frames)
    size = len(message) / 1e6
    if size > max_mb:
        raise ValueError(
            f"the frames take {size:.1f} MB, more than the {max_mb:g} MB one page may hold: "
            "save fewer frames (frames=viewer.frames[::10]) or fewer fields, or raise "
            "max_mb= (the browser holds the page in memory twice over)")
    state = {**traits, "room": title, "transport": "static", "api_url": ""}
    page = PAGE.format(model=IN_PAGE_MODEL,
        title=html.escape(title),
        bundle=base64.b64encode(bundle).decode(),
        frames=base64.b64encode(message).decode(),
        state=json.dumps(state).replace("</", "<\\/"),
    )
    target = Path(path)
    target.write_text(page, encoding="utf-8")
    return target
