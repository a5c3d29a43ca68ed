"""``zndraw-widget`` whose event loop is watched: ``python benchmarks/loop_watch.py serve ...``
prints ``loop blocked <seconds>`` whenever the loop ran something for longer than
``REPORT_SECONDS`` without returning to it (a 1 ms ticker measures how late it wakes)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from zndraw_widget import cli
from zndraw_widget.server import standalone

TICK = 0.001
REPORT_SECONDS = 0.01
_serve = standalone.serve


async def _watch() -> None:
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(TICK)
        late = loop.time() - start - TICK
        if late > REPORT_SECONDS:
            print(f"loop blocked {late:.3f}", flush=True)


async def _watched_serve(*args: Any, **kwargs: Any) -> None:
    watcher = asyncio.create_task(_watch())
    try:
        await _serve(*args, **kwargs)
    finally:
        watcher.cancel()


if __name__ == "__main__":
    standalone.serve = _watched_serve  # cli imports it when it runs
    sys.exit(cli.main())
