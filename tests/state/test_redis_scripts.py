"""The Lua scripts of the Redis store and the failure kinds they share with MemoryStore."""

from __future__ import annotations

import re
from importlib.resources import files

from zndraw_widget.state.failures import Failure
from zndraw_widget.state.redis import scripts


def test_scripts_fail_with_every_failure_kind_and_no_other():
    used = {kind for source in scripts.SOURCES.values()
            for kind in re.findall(r"fail\('(\w+)'", source)}
    assert used == {kind.value for kind in Failure}


def test_each_script_header_names_its_arguments_reply_and_failures():
    directory = files(scripts.__package__) / "lua"
    for name in scripts.SOURCES:
        header = (directory / f"{name}.lua").read_text().split("\n\n")[0]
        for field in ("-- KEYS:", "-- ARGV", "-- Returns:", "-- Fails:"):
            assert field in header, (name, field)
