"""Hatch build hook: bundle the front end (``js/`` -> ``src/zndraw_widget/static/widget.js``).

Runs for wheels, editable installs and sdists. When the bundle is missing or older than a
source in ``js/`` (or ``package-lock.json``), it runs ``npm ci`` (if ``node_modules`` is
missing or stale) and ``npm run build``; this needs Node.js >= 20 with npm. An sdist
carries the built bundle, so installing from one needs no Node.js.
Set ``ZNDRAW_SKIP_JS_BUILD=1`` to skip (the bundle must then exist).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = Path("src/zndraw_widget/static/widget.js")


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


class FrontEndBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        bundle = root / BUNDLE
        sources = [*root.joinpath("js").rglob("*.ts"), *root.joinpath("js").rglob("*.mjs"),
                   root / "package.json", root / "package-lock.json"]
        have_sources = (root / "package.json").is_file() and (root / "js").is_dir()
        stale = not bundle.is_file() or (
            have_sources and _newest(sources) > bundle.stat().st_mtime)
        if os.environ.get("ZNDRAW_SKIP_JS_BUILD") or not stale:
            if not bundle.is_file():
                raise RuntimeError(f"{BUNDLE} is missing and ZNDRAW_SKIP_JS_BUILD is set")
            return
        if not have_sources:
            raise RuntimeError(f"{BUNDLE} is missing and there are no front end sources")
        npm = shutil.which("npm")
        if npm is None and bundle.is_file():
            self.app.display_warning(
                f"zndraw-widget: {BUNDLE} may be older than js/, but npm is not installed: "
                "using it as it is")
            return
        if npm is None:
            raise RuntimeError(
                "building zndraw-widget from source needs Node.js >= 20 with npm (to bundle "
                "the front end in js/); install Node.js, or install a wheel or sdist, which "
                "carry the bundle")
        modules = root / "node_modules" / ".package-lock.json"
        if not modules.is_file() or (root / "package-lock.json").stat().st_mtime > modules.stat().st_mtime:
            self.app.display_info("zndraw-widget: npm ci")
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=root, check=True)
        self.app.display_info("zndraw-widget: npm run build")
        subprocess.run([npm, "run", "build"], cwd=root, check=True)
        if not bundle.is_file():
            raise RuntimeError(f"npm run build did not produce {BUNDLE}")
