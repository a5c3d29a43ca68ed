"""Looks and figures of a ``Viewer``: the ``style`` and ``camera`` traits, screenshots and
movies rendered by the browser.

The kernel asks its displayed views over the widget comm (kernel to browser works while a
cell runs); a view renders the picture at the size asked for and hands it to the server's
figure mailbox (``server/figures.py``), where the kernel waits for it over HTTP. So
``screenshot()`` and ``movie()`` work inside a running cell, in any kernel, with no pumping
of the kernel's message loop. A view must be displayed, its page open.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import traitlets

from .client.http import HttpClient
from .look import validate_camera, validate_style

#: The largest picture asked of a browser (each side, pixels); WebGL may allow less.
MAX_SIDE = 8192
#: Movie frames a view renders ahead of the kernel taking them.
MOVIE_WINDOW = 4


def _side(value: int | None, name: str, even: bool = False) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
            1 <= value <= MAX_SIDE):
        raise ValueError(f"{name} must be a whole number of pixels, 1 to {MAX_SIDE}, "
                         f"not {value!r}")
    if even and value % 2:
        raise ValueError(f"{name} of a movie must be even (video encoders need it), "
                         f"not {value}")
    return int(value)


class Figures(traitlets.HasTraits):
    """Mixed into ``Viewer``: traits ``style`` and ``camera``, ``screenshot`` and ``movie``."""

    #: How the atoms look (docs/widget.md "Looks"); checked when set.
    style = traitlets.Dict()
    #: The browser's copy of ``style`` (ipywidgets' front end keeps the name ``style`` for
    #: a widget's CSS style model, so the synced trait has another name).
    _style = traitlets.Dict().tag(sync=True)
    #: Where the camera is: position, target, up, fov, orthographic, zoom (both ways).
    camera = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._figure_http: HttpClient | None = None
        self.on_msg(self._figure_message)

    @traitlets.validate("style")
    def _valid_style(self, proposal: Any) -> dict:
        return validate_style(proposal["value"])

    @traitlets.observe("style")
    def _style_to_browser(self, change: Any) -> None:
        self._style = change["new"]

    @traitlets.observe("_style")
    def _style_from_browser(self, change: Any) -> None:
        self.style = change["new"]  # checked; equal values fire no change, so no loop

    @traitlets.validate("camera")
    def _valid_camera(self, proposal: Any) -> dict:
        return validate_camera(proposal["value"])

    # -- screenshots --------------------------------------------------------------------------
    def screenshot(self, path: str | Path | None = None, *, width: int | None = None,
                   height: int | None = None, transparent: bool = False,
                   timeout: float = 60.0) -> bytes:
        """A PNG of the view rendered by the browser at ``width`` x ``height`` pixels (by
        default the view's size), with a transparent background if asked; written to
        ``path`` too if given. Works inside a running cell; a view must be displayed."""
        request = {"type": "screenshot", "width": _side(width, "width"),
                   "height": _side(height, "height"), "transparent": bool(transparent)}
        figure = secrets.token_urlsafe(16)
        self.send({**request, "id": figure})
        png, _view = self._take(figure, timeout)
        if path is not None:
            Path(path).write_bytes(png)
        return png

    # -- movies -------------------------------------------------------------------------------
    def movie(self, path: str | Path, frames: Iterable[int] | None = None, *,
              fps: float = 24, width: int | None = None, height: int | None = None,
              progress: bool = True, timeout: float = 60.0) -> Path:
        """Render ``frames`` (indices; default all) one by one in the browser at ``width`` x
        ``height`` (even; default the view's size, rounded down to even) and write them into
        a video at ``fps`` frames per second: ``.webm`` (VP9), ``.mp4`` (H.264) or ``.mkv``.
        Needs the ``movie`` extra (PyAV). Shows a progress bar unless ``progress=False``."""
        from .video import VideoWriter, check_movie_path

        path = check_movie_path(path)
        length = len(self.frames)
        indices = np.arange(length) if frames is None else np.asarray(list(frames))
        if indices.ndim != 1 or not len(indices) or indices.dtype.kind not in "iu":
            raise ValueError("frames must be a non-empty sequence of frame indices")
        if indices.min() < 0 or indices.max() >= length:
            raise IndexError(f"frames must be 0 to {length - 1} (the room has {length})")
        if not (isinstance(fps, (int, float)) and 0 < fps <= 240):
            raise ValueError(f"fps must be a number in (0, 240], not {fps!r}")
        job = secrets.token_urlsafe(16)
        self.send({"type": "movie", "id": job, "frames": indices.tolist(),
                   "width": _side(width, "width", even=True),
                   "height": _side(height, "height", even=True), "window": MOVIE_WINDOW})
        writer = VideoWriter(path, fps)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(indices), desc=f"movie {path.name}", unit="frame")
        try:
            for k in range(len(indices)):
                png, view = self._take(f"{job}-{k}", timeout)
                writer.add(png)
                self.send({"type": "movie-ack", "id": job, "received": k + 1, "view": view})
                if bar is not None:
                    bar.update(1)
        except BaseException:
            self.send({"type": "movie-cancel", "id": job})
            writer.abort()
            raise
        finally:
            if bar is not None:
                bar.close()
        writer.close()
        return path

    # -- the figure mailbox ---------------------------------------------------------------
    def _take(self, figure: str, timeout: float) -> tuple[bytes, str]:
        """The PNG a view sent for ``figure`` (and that view's session), waiting for it."""
        if self._figure_http is None:
            self._figure_http = HttpClient(self.frames.endpoint, f"kernel-{secrets.token_hex(6)}")
        deadline = time.monotonic() + timeout
        while True:  # the server waits up to 120 s per request
            wait = max(0, min(120, int(deadline - time.monotonic())))
            try:
                response = self._figure_http.request("GET", f"figures/{figure}",
                                                     params={"timeout": wait})
                return response.content, response.headers.get("X-ZnDraw-View", "")
            except LookupError:
                if time.monotonic() >= deadline - 1:
                    raise TimeoutError(
                        f"no view rendered the figure within {timeout:g} s: display the "
                        "viewer (a cell ending in it) and keep its page open") from None

    def _figure_message(self, _widget: Any, content: Any, _buffers: list[bytes]) -> None:
        """The view's movie button: record all frames in a kernel thread (the notebook
        stays usable) into ``<room>-<time>.webm`` in the kernel's folder."""
        if not (isinstance(content, dict) and content.get("type") == "movie-request"):
            return
        size = {k: content.get(k) for k in ("width", "height")}
        path = Path(f"{self.room}-{time.strftime('%Y%m%d-%H%M%S')}.webm")

        def record() -> None:
            try:
                self.movie(path, progress=False, **size)
                text = f"Movie saved as {path.resolve()}"
            except Exception as error:  # shown in the view: there is no cell to raise in
                text = f"The movie failed: {error}"
            self.send({"type": "movie-done", "text": text})

        threading.Thread(target=record, name="zndraw-movie", daemon=True).start()
