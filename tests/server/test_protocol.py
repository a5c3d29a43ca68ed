"""The protocol's argument checks, shared by the HTTP and the control channel."""

from __future__ import annotations

import pytest

from zndraw_widget.caller import Caller, User
from zndraw_widget.errors import BadRequest
from zndraw_widget.server.protocol import (
    caller_of,
    frame_number,
    lease_target,
    lease_ttl,
    parse_index,
    parse_selection,
)
from zndraw_widget.state.base import SliceSpec


@pytest.mark.parametrize("ttl", [0, -1, 301, True, "5", [5]])
def test_a_bad_ttl_is_refused(ttl):
    with pytest.raises(BadRequest, match="'ttl'"):
        lease_ttl(ttl)


@pytest.mark.parametrize("ttl", [None, 0.5, 30, 300])
def test_a_good_ttl_passes(ttl):
    assert lease_ttl(ttl) == ttl


@pytest.mark.parametrize("target", ["orders", "frame:", "frame:a/b", "frame:" + "x" * 65, "",
                                    None, 3, "presenter\n"])
def test_a_bad_lease_target_is_refused(target):
    with pytest.raises(BadRequest, match="'target'"):
        lease_target(target)


@pytest.mark.parametrize("target", ["order", "presenter", "frame:ab_C-9"])
def test_a_good_lease_target_passes(target):
    assert lease_target(target) == target


@pytest.mark.parametrize("text", ["a", "1:2:3:4", "1.5", "1,,2", "1:x", "1" * 13, " 1", "1\n"])
def test_a_bad_index_is_refused(text):
    with pytest.raises(BadRequest):
        parse_index(text)


@pytest.mark.parametrize("text, spec", [
    (None, SliceSpec(None, None, None)), ("", SliceSpec(None, None, None)), ("5", [5]),
    ("-1", [-1]), ("1,5,7", [1, 5, 7]), ("0:100:2", SliceSpec(0, 100, 2)),
    ("::-1", SliceSpec(None, None, -1)), ("3:", SliceSpec(3, None, None))])
def test_an_index_is_parsed(text, spec):
    assert parse_index(text) == spec


@pytest.mark.parametrize("index", [[1, True], [1.0], {"a": 1}, 5])
def test_a_bad_selection_is_refused(index):
    with pytest.raises(BadRequest, match="'index'"):
        parse_selection(index)


@pytest.mark.parametrize("frame", [-1, True, 1.0, "2", None])
def test_a_bad_frame_number_is_refused(frame):
    with pytest.raises(BadRequest, match="'frame'"):
        frame_number(frame)


def test_the_caller_is_the_user_and_the_session_it_names():
    lab = frozenset({"lab"})
    assert caller_of(User("alice", lab), "tab-1") == Caller("alice", lab, "tab-1")
    assert caller_of(User("alice", admin=True), None) == Caller("alice", frozenset(),
                                                                "user:alice", True)
    with pytest.raises(BadRequest, match="session"):
        caller_of(User("alice"), "no spaces")
    with pytest.raises(BadRequest, match="session"):
        caller_of(User("alice"), "tab-1\n")
