"""What installing the package gives a user."""

from __future__ import annotations

import re
import subprocess
import sys

import zndraw_widget


def test_installing_enables_the_jupyter_server_extension():
    listing = subprocess.run([sys.executable, "-m", "jupyter", "server", "extension", "list"],
                             capture_output=True, text=True, timeout=120)
    output = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert "zndraw_widget enabled" in output
    assert f"zndraw_widget {zndraw_widget.__version__} OK" in output


def test_the_core_imports_neither_jupyter_nor_tornado():
    code = (
        "import sys, zndraw_widget.room_service, zndraw_widget.state, zndraw_widget.storage, "
        "zndraw_widget.hub, zndraw_widget.frames, zndraw_widget.codec, zndraw_widget.export, "
        "zndraw_widget.formats\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tornado', 'jupyter_server')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_public_names_survive_importing_the_server():
    """No submodule shares a name with the package's public API (importing it would replace
    ``zndraw_widget.rooms`` the function by a module, as in a kernel that serves rooms)."""
    code = (
        "import zndraw_widget, zndraw_widget.server.standalone, zndraw_widget.kernel_rooms\n"
        "assert callable(zndraw_widget.rooms), zndraw_widget.rooms"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_cli_help_names_the_environment_variables():
    result = subprocess.run([sys.executable, "-m", "zndraw_widget", "serve", "--help"],
                            capture_output=True, text=True, timeout=60, check=True)
    for name in ("ZNDRAW_STORAGE_PATH", "ZNDRAW_REDIS_URL", "ZNDRAW_TOKEN", "ZNDRAW_MAX_UPLOAD_MB"):
        assert name in result.stdout
