"""Write PNG frames into a video file with PyAV (FFmpeg's libraries, in the ``movie`` extra).

The codec follows the file's suffix: ``.webm`` VP9, ``.mp4`` H.264, ``.mkv`` VP9. Frames
are encoded as they come, so a movie of any length needs the memory of a few frames.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

#: suffix -> (codec, encoder options): fast settings, since software encoding is the cost.
CODECS: dict[str, tuple[str, dict[str, str]]] = {
    ".webm": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "row-mt": "1",
                             "crf": "32", "b": "0"}),
    ".mkv": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "row-mt": "1",
                            "crf": "32", "b": "0"}),
    ".mp4": ("libx264", {"preset": "veryfast", "crf": "20"}),
}


def _av() -> Any:
    try:
        import av
        import PIL.Image  # noqa: F401  (decodes the PNG frames)
    except ImportError:
        raise ImportError("writing a movie needs PyAV and Pillow: "
                          "pip install 'zndraw-widget[movie]'") from None
    return av


def check_movie_path(path: str | Path) -> Path:
    """``path`` as a Path, if its suffix names a format this writes."""
    path = Path(path)
    if path.suffix.lower() not in CODECS:
        raise ValueError(f"a movie is written as {', '.join(CODECS)}, not {path.name!r}")
    _av()
    return path


class VideoWriter:
    """``add`` PNG frames of one size, then ``close``; ``abort`` removes the file."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.av = _av()
        self.path = check_movie_path(path)
        self.fps = Fraction(fps).limit_denominator(1001)
        self.frames = 0
        self._container = self.av.open(str(self.path), "w")
        self._stream: Any = None

    def add(self, png: bytes) -> None:
        from PIL import Image

        image = Image.open(io.BytesIO(png)).convert("RGB")
        if self._stream is None:
            codec, options = CODECS[self.path.suffix.lower()]
            self._stream = self._container.add_stream(codec, rate=self.fps, options=options)
            self._stream.width, self._stream.height = image.size
            self._stream.pix_fmt = "yuv420p"
        elif image.size != (self._stream.width, self._stream.height):
            raise ValueError(f"frame {self.frames} is {image.size}, the movie "
                             f"{(self._stream.width, self._stream.height)}")
        frame = self.av.VideoFrame.from_image(image)
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        if self._stream is not None:
            self._container.mux(self._stream.encode(None))  # flush the encoder
        self._container.close()

    def abort(self) -> None:
        self._container.close()
        self.path.unlink(missing_ok=True)
