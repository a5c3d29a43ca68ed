"""zndraw-widget: look at, share and edit atomistic trajectories from Jupyter."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.extension import ZnDrawWidget

    return [{"module": "zndraw_widget.server.extension", "app": ZnDrawWidget}]
