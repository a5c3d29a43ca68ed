"""The one policy for trying again, shared by reconnecting the control channel and retrying
HTTP requests (docs/protocol.md "Reconnecting"; the widget's js/control.ts does the same):
wait 0.1 s, then double the pause up to 5 s, each pause scaled by a random factor in
[0.5, 1] so that the clients of a restarted server do not return in one wave."""

from __future__ import annotations

import random

PAUSES = (0.1, 5.0)  # the first and the longest pause


class Backoff:
    """The growing pauses of one run of attempts; :meth:`reset` after a success."""

    def __init__(self) -> None:
        self._pause = PAUSES[0]

    def reset(self) -> None:
        self._pause = PAUSES[0]

    def next(self) -> float:
        """Seconds to wait before the next attempt."""
        pause = self._pause * random.uniform(0.5, 1.0)
        self._pause = min(2 * self._pause, PAUSES[1])
        return pause
