"""JSON request bodies, parsed only when they nest no deeper than ``MAX_DEPTH``.

``json.loads`` recurses once per level: a 100,000-deep body would end in a
``RecursionError``. The depth is checked first without recursion, in C-speed regular
expression passes over the body.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..codec import MAX_DEPTH
from ..errors import BadRequest

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_INNERMOST = re.compile(rb"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_BRACKET = re.compile(rb"[\[\]{}]")


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the arrays and objects of ``raw`` nest deeper than ``limit`` (or do not pair
    up): each pass replaces the innermost ones by a value."""
    text = _STRING.sub(b'""', raw)
    for _ in range(limit):
        text, count = _INNERMOST.subn(b"0", text)
        if not count:
            break
    return _BRACKET.search(text) is not None


def parse_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw`` (``{}`` when empty); :class:`BadRequest` if it is
    malformed, nests deeper than ``MAX_DEPTH`` or is not an object."""
    too_deep = BadRequest(f"the JSON body nests deeper than {MAX_DEPTH} levels",
                          max_depth=MAX_DEPTH)
    deep = _deeper_than(raw, MAX_DEPTH)
    try:
        body = json.loads(raw or b"{}")
    except RecursionError:
        raise too_deep from None
    except ValueError as error:
        raise BadRequest(f"malformed JSON body: {error}") from None
    if deep:
        raise too_deep
    if not isinstance(body, dict):
        raise BadRequest("the JSON body must be an object")
    return body
