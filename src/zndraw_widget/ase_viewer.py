"""``ase.visualize.view(atoms, viewer="zndraw")``: a :class:`~zndraw_widget.Viewer`.

Registered through the ``ase.visualize`` entry point group (see ``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ase.utils.plugins import ExternalViewer

if TYPE_CHECKING:
    import ase

    from .widget import Viewer

VIEWER_ENTRYPOINT = ExternalViewer(desc="View atoms in a zndraw-widget Viewer (Jupyter)",
                                   module="zndraw_widget.ase_viewer")


def view_zndraw(atoms: ase.Atoms | Sequence[ase.Atoms], data: Any = None,
                repeat: tuple[int, int, int] | None = None, **kwargs: Any) -> Viewer:
    """Upload ``atoms`` (one ``ase.Atoms`` or a trajectory) into a new room and return its
    :class:`~zndraw_widget.Viewer`; ``kwargs`` (``room=``, ``url=``, ``token=``, ...) go to
    ``Viewer``."""
    import ase

    from .widget import Viewer

    if data is not None:
        raise TypeError("viewer='zndraw' shows frames, not volumetric data: leave data=None")
    frames = [atoms] if isinstance(atoms, ase.Atoms) else list(atoms)
    if repeat is not None:
        frames = [frame.repeat(repeat) for frame in frames]
    return Viewer(frames, **kwargs)
