"""The front end's own tests (TypeScript type check and vitest: the codec, the data and
control clients, the frame store, the page model) run with the Python suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_typescript_and_vitest():
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    if not (ROOT / "node_modules").is_dir():  # pip install -e . runs npm ci; a wheel does not
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True,
                       capture_output=True, timeout=600)
    result = subprocess.run(["npm", "test"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
