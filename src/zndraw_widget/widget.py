"""``Viewer``: the anywidget front end of a room.

The browser talks to the zndraw API itself (frames over HTTP, live changes over the
control websocket); the widget comm only carries the small synced traits below. Inside
JupyterLab the browser uses the page's base URL and Jupyter's login cookie + XSRF token.
Where the browser cannot reach that API (VS Code, Colab, no extension, rooms kept in this
kernel), the same requests go through the widget's comm and this kernel
(:mod:`.comm_transport`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from . import static_page
from .atom_index import atom_indices
from .client.discovery import Endpoint, discover
from .client.errors import ServerNotFoundError
from .client.files import file_or_room, room_to_fill, upload_file
from .client.hub_service import find_service, viewer_token
from .comm_transport import CommTransport
from .figures import Figures
from .frames import FIELD_NAME

if TYPE_CHECKING:
    import ase

    from .client import Room

BUNDLE = Path(__file__).parent / "static" / "widget.js"
#: The colour maps of ``Viewer.colormap`` (matplotlib's tables, js/renderer/colormaps.ts).
COLORMAPS = ("viridis", "plasma", "inferno", "magma", "cividis", "turbo", "coolwarm")


def _bundle() -> Path:
    if not BUNDLE.is_file():
        raise RuntimeError(
            f"the front end bundle {BUNDLE} is missing: install the package with pip (which "
            "builds it), or run `npm ci && npm run build` in a source checkout"
        )
    return BUNDLE


class Viewer(Figures, anywidget.AnyWidget):
    """A live 3D view of a room: ``Viewer(room="name")`` or ``Viewer(frames)``.

    ``Viewer(frames)`` (one ``ase.Atoms``, a list of them, or the path of a trajectory file:
    a ``Path``, or a string naming an existing file; any format ase reads, H5MD, or with
    ``topology=`` what MDAnalysis reads) uploads them into a new *ephemeral* room first,
    a file read and sent in batches (a progress bar for long ones): the server deletes it
    (and reclaims its data) ``ephemeral_ttl`` seconds after the last view and kernel left
    it, unless ``viewer.frames.keep()`` is called (or it was named with ``room=``). If the
    upload fails, a room made for it is deleted again. A string that is no file is a room
    name.
    ``url``/``token`` name a standalone server (``zndraw-widget serve``); inside Jupyter
    the viewer uses the Jupyter server's own zndraw extension. The token is never saved in
    the notebook: each view asks this kernel for it.

    Synced traits: ``room`` (change it to show another room), ``step`` (the frame shown;
    set it to move the view), ``selection`` (selected atom indices, both ways; the view
    shares it with the room as your selection, ``viewer.frames.selection``); what the
    view shows of each frame (docs/widget.md, "Analysis"): ``color_by``, ``colormap``,
    ``color_range``, ``vectors``, ``vector_scale``, ``vector_color``, ``repeat``, ``wrap``
    and ``measurements`` (the view's measured values; set atom groups to measure them);
    ``plots`` (per-frame numbers plotted under the view, e.g. ``["calc.energy"]``, both
    ways) with ``plot_x`` (what they are plotted against: ``""`` the frame index, or another
    property); ``style`` (representations, scales, groups, labels: docs/widget.md "Looks")
    and ``camera`` (both ways). ``screenshot()`` and ``movie()`` render figures in the browser.
    """

    _esm = BUNDLE  # anywidget reads the file (and watches it with ANYWIDGET_HMR=1)

    room = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    selection = traitlets.List(traitlets.Int()).tag(sync=True)
    #: API root for the browser ("" inside Jupyter: the page's own server).
    api_url = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(480).tag(sync=True)
    #: Colour the atoms by a per-atom property: ``"calc.charges"``, ``"arrays.tags"``, or a
    #: component or the norm of an N x 3 one: ``"calc.forces[x]"``, ``"calc.forces[norm]"``
    #: ("": by element). Integer labels are coloured by category.
    color_by = traitlets.Unicode("").tag(sync=True)
    #: The colour map of ``color_by`` (matplotlib's): one of :data:`COLORMAPS`.
    colormap = traitlets.Enum(COLORMAPS, default_value="viridis").tag(sync=True)
    #: ``(low, high)`` of the colour map, or empty: each frame's own min and max.
    color_range = traitlets.List(traitlets.Float(), maxlen=2).tag(sync=True)
    #: Arrows for an N x 3 per-atom property (``"calc.forces"``, ``"arrays.momenta"``; "": none).
    vectors = traitlets.Unicode("").tag(sync=True)
    #: Arrow length per unit of ``vectors`` (Å per eV/Å for forces).
    vector_scale = traitlets.Float(1.0).tag(sync=True)
    #: Arrow colour (CSS).
    vector_color = traitlets.Unicode("#ff7f0e").tag(sync=True)
    #: Periodic images: the cell repeated ``(n, m, l)`` times (periodic frames only).
    repeat = traitlets.Tuple(traitlets.Int(1), traitlets.Int(1), traitlets.Int(1),
                             default_value=(1, 1, 1)).tag(sync=True)
    #: Draw the atoms wrapped into the cell (periodic directions only).
    wrap = traitlets.Bool(False).tag(sync=True)
    #: Measurements on the shown frame, written by the view: ``[{"atoms": [0, 1], "kind":
    #: "distance", "value": 1.09, "frame": 3}, ...]`` (Å, degrees; the selection's own
    #: measurement last, with ``"selection": True``). Set ``[{"atoms": [i, j, k]}, ...]`` to
    #: measure these groups of 2-4 atoms.
    measurements = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: Per-frame numbers plotted under the view, linked to the frames: ``["calc.energy"]``.
    plots = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: What ``plots`` are plotted against: "" (the frame index) or another per-frame number.
    plot_x = traitlets.Unicode("").tag(sync=True)
    #: "comm": the room lives in this kernel, so views use the comm (js/transport.ts);
    #: "": HTTP where the zndraw API answers, else the comm.
    transport = traitlets.Unicode("").tag(sync=True)
    #: The last of the frames given, as a read response: what the notebook's saved widget
    #: state shows where no kernel answers (nbconvert's HTML, nbviewer); b"" if over 1 MB.
    snapshot = traitlets.Bytes(b"").tag(sync=True)

    def __init__(self, frames: Iterable[ase.Atoms] | ase.Atoms | Room | str | os.PathLike
                 | None = None, *, room: str | None = None, url: str | None = None,
                 token: str | None = None, topology: str | os.PathLike | None = None,
                 **kwargs: Any) -> None:
        if isinstance(type(self)._esm, (str, Path)):  # the bundle was missing at import
            self._esm = _bundle().read_text(encoding="utf-8")
        path = None
        if isinstance(frames, (str, os.PathLike)):
            found = file_or_room(frames)
            if isinstance(found, Path):
                path, frames = found, ()
            else:
                frames, room = None, found
        elif _is_atoms(frames):
            frames = [frames]
        self._room_client: Room | None = None
        snapshot = b""
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
            with room_to_fill(room, url, self._token, ephemeral=room is None) as filled:
                if path is not None:
                    upload_file(filled, path, topology=topology)
                else:
                    frames = list(frames)
                    filled.extend(frames)
                    snapshot = static_page.snapshot(frames[-1]) if frames else b""
            self._room_client, room = filled, filled.name
        if room is None:
            raise TypeError("Viewer needs frames (a list of ase.Atoms) or room='name'")
        endpoint = self._endpoint()
        local = endpoint is not None and endpoint.local
        super().__init__(room=room, api_url=url or (self._hub[1] if self._hub else ""),
                         transport="comm" if local else "", snapshot=snapshot, **kwargs)
        # A standalone server's token is no synced trait (that would save it in the
        # notebook's widget state): each view asks the kernel for it.
        self.on_msg(self._answer)
        self._comm_transport = CommTransport(self._endpoint, lambda c, b: self.send(c, b))
        self.on_msg(lambda _w, content, buffers: self._comm_transport.handle(content, buffers))

    def _endpoint(self) -> Endpoint | None:
        """The server this viewer's room lives on (None: none is found)."""
        if self._room_client is not None:
            return self._room_client.endpoint
        try:
            return discover(self._url, self._token)
        except ServerNotFoundError:
            return None

    def close(self) -> None:
        transport = getattr(self, "_comm_transport", None)
        if transport is not None:
            transport.close()
        super().close()

    @traitlets.validate("repeat")
    def _check_repeat(self, proposal: dict[str, Any]) -> tuple[int, int, int]:
        repeat = tuple(proposal["value"])
        if any(r < 1 for r in repeat) or repeat[0] * repeat[1] * repeat[2] > 1000:
            raise traitlets.TraitError(
                f"repeat={repeat}: give three counts of at least 1 (at most 1000 cells in all)")
        return repeat

    @traitlets.validate("measurements")
    def _check_measurements(self, proposal: dict[str, Any]) -> list[dict[str, Any]]:
        checked = []
        for k, entry in enumerate(proposal["value"]):
            atoms = atom_indices(entry.get("atoms"), f"measurements[{k}]['atoms']",
                                 traitlets.TraitError).tolist()
            if not 2 <= len(atoms) <= 4:
                raise traitlets.TraitError(
                    f"measurements[{k}]['atoms']: give 2 atoms (a distance), 3 (an angle) or 4 "
                    f"(a dihedral), not {len(atoms)}")
            checked.append({**entry, "atoms": atoms})
        return checked

    @traitlets.validate("plots", "plot_x")
    def _field_names(self, proposal: dict[str, Any]) -> Any:
        value = proposal["value"]
        names = [value] if isinstance(value, str) else value
        bad = [name for name in names if name and not (
            FIELD_NAME.match(name) and name.startswith(("info.", "calc.")))]
        if bad:
            raise traitlets.TraitError(
                f"{proposal['trait'].name}: {bad} name no per-frame field: use 'calc.<name>' or "
                "'info.<name>' (e.g. 'calc.energy', 'info.temperature')")
        return value

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

    #: The traits a saved page (:meth:`save_html`) keeps: how the frames are shown.
    _SHOWN = ("step", "selection", "height", "color_by", "colormap", "color_range", "vectors",
              "vector_scale", "vector_color", "repeat", "wrap", "measurements")

    def save_html(self, path: str | os.PathLike, frames: Iterable[ase.Atoms] | None = None, *,
                  max_mb: float = static_page.MAX_MB) -> Path:
        """Write one self-contained HTML page that plays ``frames`` (default: all of this
        viewer's room) back as this viewer shows them, from a file:// URL with no server and
        no kernel. ``ValueError`` if the frames take more than ``max_mb`` MB."""
        traits = {name: getattr(self, name) for name in self._SHOWN}
        return static_page.write_page(path, self.frames[:] if frames is None else frames,
                                      _bundle().read_bytes(), traits, self.room, max_mb)

    def __repr__(self) -> str:
        return f"Viewer(room={self.room!r}, step={self.step})"


def _is_atoms(value: Any) -> bool:
    from ase import Atoms

    return isinstance(value, Atoms)
