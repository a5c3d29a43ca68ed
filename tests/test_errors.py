"""errors.shown: values in error messages, cut without repr'ing them whole."""

from zndraw_widget.errors import shown


class Counted:
    """Counts how often it is repr'd."""

    calls = 0

    def __repr__(self) -> str:
        Counted.calls += 1
        return "c"


def test_short_values_are_shown_whole():
    assert shown("represention") == "'represention'"
    assert shown([True]) == "[True]"
    assert shown(2**31) == "2147483648"


def test_a_long_string_keeps_its_ends_within_the_limit():
    text = shown("a" * 10**6 + "z")
    assert len(text) <= 40 and text.startswith("'aaa") and text.endswith("az'")
    assert "..." in text
    assert len(shown(b"x" * 10**6, limit=20)) <= 20


def test_a_huge_list_is_not_reprd_whole():
    Counted.calls = 0
    text = shown([Counted()] * 10**6)
    assert text == "[c, c, c, c, c, c, ...]"
    assert Counted.calls <= 6


def test_nesting_and_length_are_cut():
    assert shown([[[[[1]]]]]) == "[[[[...]]]]"
    text = shown([["x" * 30] * 6] * 6)
    assert len(text) <= 40 and text.endswith("...")


def test_a_string_subclass_or_bytearray_is_cut_like_a_string():
    """reprlib goes by a type's name: a subclass of str (numpy.str_) or a bytearray would
    otherwise be repr'd whole and then cut."""

    class Text(str):
        calls = 0

        def __repr__(self) -> str:
            Text.calls += 1
            return super().__repr__()

    text = shown(Text("a" * 10**6 + "z"))
    assert Text.calls == 0
    assert len(text) <= 40 and text.startswith("'aaa") and text.endswith("az'")
    assert len(shown(bytearray(b"x" * 10**6), limit=20)) <= 20
