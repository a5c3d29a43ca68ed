"""zndraw-widget: look at, share and edit atomistic trajectories from Jupyter."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The client is imported on first use, so that ``import zndraw_widget`` stays light.
_CLIENT = frozenset({
    "Room", "ConflictError", "LockedError", "RoomNotFoundError", "ServerNotFoundError",
    "AuthenticationError", "rooms",
})


def __getattr__(name: str) -> Any:
    if name in _CLIENT:
        from . import client

        return getattr(client, name)
    if name == "Viewer":  # the widget imports anywidget: only on first use
        from .widget import Viewer

        return Viewer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.extension import ZnDrawWidget

    return [{"module": "zndraw_widget.server.extension", "app": ZnDrawWidget}]
