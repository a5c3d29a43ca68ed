"""The ``style`` and ``camera`` traits: what they accept, and errors naming the bad key."""

from __future__ import annotations

import numpy as np
import pytest

from zndraw_widget.look import StyleError, validate_camera, validate_style


def test_style_accepts_the_documented_schema():
    style = {
        "representation": "spacefill", "atom_scale": 0.8, "bond_scale": 1.5, "bonds": False,
        "groups": [{"atoms": np.arange(3), "representation": "ball-and-stick"},
                   {"elements": ["H"], "hidden": True},
                   {"atoms": "selection", "atom_scale": 2}],
        "labels": {"text": "charges", "atoms": "selection", "size": 18},
    }
    out = validate_style(style)
    assert out["groups"][0]["atoms"] == [0, 1, 2]  # numpy arrays become plain lists
    assert out["labels"] == {"text": "charges", "atoms": "selection", "size": 18.0}
    assert validate_style({}) == {}
    assert validate_style({"labels": None}) == {"labels": None}


@pytest.mark.parametrize(("style", "message"), [
    ({"represention": "lines"}, "style: unknown key 'represention'"),
    ({"representation": "cartoon"}, "style['representation']: 'cartoon' is no representation"),
    ({"atom_scale": 0}, "style['atom_scale']"),
    ({"atom_scale": True}, "style['atom_scale']"),
    ({"bonds": 1}, "style['bonds']"),
    ({"groups": {}}, "style['groups']: a list"),
    ({"groups": [{"representation": "lines"}]}, "style['groups'][0]: needs \"atoms\""),
    ({"groups": [{"atoms": [1, -1]}]}, "style['groups'][0]['atoms']: -1 (atom 2 of the 2 "
                                        "given) is no atom index: give integers from 0"),
    ({"groups": [{"atoms": [1.5]}]}, "style['groups'][0]['atoms']: 1.5 (atom 1 of the 1"),
    ({"groups": [{"atoms": "0-3"}]}, "style['groups'][0]['atoms']: a list of atom indices, "
                                     "not str"),
    ({"groups": [{"elements": ["Xx"]}]}, "style['groups'][0][\"elements\"]"),
    ({"groups": [{"atoms": [0], "color": "red"}]}, "style['groups'][0]: unknown key 'color'"),
    ({"labels": {"text": ""}}, "style['labels']['text']"),
    ({"labels": {"size": 500}}, "style['labels']['size']"),
    ("spacefill", "style: a dict"),
])
def test_style_errors_name_the_key(style, message):
    with pytest.raises(StyleError) as error:
        validate_style(style)
    assert message in str(error.value)


def test_camera():
    assert validate_camera({"position": (1, 2, 3), "fov": 30, "orthographic": True}) == {
        "position": [1.0, 2.0, 3.0], "fov": 30.0, "orthographic": True}
    for camera, message in [({"position": [1, 2]}, "camera['position']"),
                            ({"up": [0, 0, 0]}, "camera['up']"),
                            ({"fov": 0}, "camera['fov']"),
                            ({"zoom": -1}, "camera['zoom']"),
                            ({"position": [1, 1, 1], "target": [1, 1, 1]}, "must differ"),
                            ({"eye": [0, 0, 1]}, "unknown key 'eye'")]:
        with pytest.raises(StyleError, match=message.replace("[", r"\[")):
            validate_camera(camera)


def test_a_bookmarks_camera_is_checked_as_the_camera_trait():
    """One check, one message: a bookmark's camera (shared.check_camera, a 400) and
    ``Viewer.camera`` (look.validate_camera, a StyleError) agree on every value."""
    from zndraw_widget.errors import BadRequest
    from zndraw_widget.shared import check_camera

    for camera in ([0, 0, 1], {"fov": 200}, {"up": [0, 0, 0]}, {"position": [1, 2]},
                   {"position": [1, 1, 1], "target": [1, 1, 1]}, {"eye": [0, 0, 1]},
                   {"zoom": True}, {"orthographic": 1}):
        with pytest.raises(StyleError) as trait:
            validate_camera(camera)
        with pytest.raises(BadRequest) as bookmark:
            check_camera(camera)
        assert str(bookmark.value) == str(trait.value)
    good = {"position": (0, 0, 20), "target": [0, 0, 0], "up": [0, 1, 0], "fov": 45,
            "orthographic": False, "zoom": 1}
    assert check_camera(good) == validate_camera(good) == {**good, "position": [0, 0, 20]}
    assert check_camera(None) is None


def test_viewer_traits_refuse_bad_values():
    from zndraw_widget.figures import Figures

    figures = Figures.__new__(Figures)
    traits = Figures.class_traits()
    assert {"style", "camera"} <= set(traits)
    with pytest.raises(StyleError, match="unknown key"):
        figures._valid_style({"value": {"colour": 1}})
