"""``Viewer``: the anywidget front end of a room.

The browser talks to the zndraw API itself (frames over HTTP, live changes over the
control websocket); the widget comm only carries the small synced traits below. Inside
JupyterLab the browser uses the page's base URL and Jupyter's login cookie + XSRF token.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .client.hub_service import find_service, viewer_token
from .figures import Figures

if TYPE_CHECKING:
    import ase

    from .client import Room

BUNDLE = Path(__file__).parent / "static" / "widget.js"


def _bundle() -> Path:
    if not BUNDLE.is_file():
        raise RuntimeError(
            f"the front end bundle {BUNDLE} is missing: install the package with pip (which "
            "builds it), or run `npm ci && npm run build` in a source checkout"
        )
    return BUNDLE


class Viewer(Figures, anywidget.AnyWidget):
    """A live 3D view of a room: ``Viewer(room="name")`` or ``Viewer(frames)``.

    ``Viewer(frames)`` (a list of ``ase.Atoms``, or a ``pathlib.Path`` of a trajectory file
    ase reads) uploads them into a new *ephemeral* room first: the server deletes it (and
    reclaims its data) ``ephemeral_ttl`` seconds after the last view and kernel left it,
    unless ``viewer.frames.keep()`` is called (or it was named with ``room=``).
    ``url``/``token`` name a standalone server (``zndraw-widget serve``); inside Jupyter
    the viewer uses the Jupyter server's own zndraw extension. The token is never saved in
    the notebook: each view asks this kernel for it.

    Synced traits: ``room`` (change it to show another room), ``step`` (the frame shown;
    set it to move the view), ``selection`` (selected atom indices, both ways), ``style``
    (representations, scales, groups, labels: docs/widget.md "Looks") and ``camera`` (both
    ways). ``screenshot()`` and ``movie()`` render figures in the browser.
    """

    _esm = BUNDLE  # anywidget reads the file (and watches it with ANYWIDGET_HMR=1)

    room = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    selection = traitlets.List(traitlets.Int()).tag(sync=True)
    #: API root for the browser ("" inside Jupyter: the page's own server).
    api_url = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(480).tag(sync=True)

    def __init__(self, frames: Iterable[ase.Atoms] | Room | str | os.PathLike | None = None, *,
                 room: str | None = None, url: str | None = None, token: str | None = None,
                 **kwargs: Any) -> None:
        if isinstance(type(self)._esm, (str, Path)):  # the bundle was missing at import
            self._esm = _bundle().read_text(encoding="utf-8")
        if isinstance(frames, str):
            frames, room = None, frames
        elif isinstance(frames, os.PathLike):  # a trajectory file, in any format ase reads
            import ase.io

            frames = ase.io.read(frames, index=":")
        self._room_client: Room | None = None
        if frames is not None:
            from .client import Room

            if isinstance(frames, Room):
                self._room_client, room, frames = frames, frames.name, None
                endpoint = self._room_client.endpoint
                if endpoint.explicit:
                    url, token = endpoint.api_url, endpoint.token
        # The browser talks to the server the kernel uses: ``url`` or ZNDRAW_URL (a
        # standalone server), else the Jupyter server of the page (api_url "").
        url = url or os.environ.get("ZNDRAW_URL") or None
        self._url = url
        self._token = (token or os.environ.get("ZNDRAW_TOKEN")) if url else None
        # Under a JupyterHub with the zndraw service: through the hub's proxy, a token asked
        # of the hub for it.
        self._hub = None if url else find_service(os.environ)
        if frames is not None:
            if room is None:
                self._room_client = Room.create(f"viewer-{secrets.token_hex(6)}", url=url,
                                                token=self._token, ephemeral=True)
            else:
                self._room_client = Room(room, url=url, token=self._token, create=True)
            self._room_client.extend(list(frames))
            room = self._room_client.name
        if room is None:
            raise TypeError("Viewer needs frames (a list of ase.Atoms) or room='name'")
        super().__init__(room=room, api_url=url or (self._hub[1] if self._hub else ""), **kwargs)
        # A standalone server's token is no synced trait (that would save it in the
        # notebook's widget state): each view asks the kernel for it.
        self.on_msg(self._answer)

    def _answer(self, _widget: Viewer, content: Any, _buffers: list[bytes]) -> None:
        if isinstance(content, dict) and content.get("type") == "credentials":
            token = viewer_token(os.environ) if self._hub else self._token
            self.send({"type": "credentials", "token": token or ""})

    @property
    def frames(self) -> Room:
        """The room as a list of ``ase.Atoms`` (writes show up in every open view)."""
        if self._room_client is None or self._room_client.name != self.room:
            from .client import Room

            self._room_client = Room(self.room, url=self._url, token=self._token, create=False)
        return self._room_client

    @property
    def atoms(self) -> ase.Atoms:
        """The frame this viewer shows (at its :attr:`step`); setting it replaces that frame
        (in an empty room it becomes the first)."""
        return self.frames[self.step]

    @atoms.setter
    def atoms(self, value: ase.Atoms) -> None:
        frames = self.frames
        if len(frames) == 0:
            frames.append(value)
        else:
            frames[self.step] = value

    def __repr__(self) -> str:
        return f"Viewer(room={self.room!r}, step={self.step})"
