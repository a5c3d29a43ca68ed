"""The viewer's background follows the JupyterLab theme."""

from __future__ import annotations


def _change_theme(page, theme: str) -> None:
    page.page.evaluate("(theme) => window.jupyterapp.commands.execute("
                       "'apputils:change-theme', {theme})", theme)


def test_background_follows_the_jupyterlab_theme(main_page):
    assert sum(main_page.background()) > 600  # light theme: white
    _change_theme(main_page, "JupyterLab Dark")
    try:
        main_page.wait_background("dark")
        main_page.screenshot("e2e-dark-theme.png")
    finally:
        _change_theme(main_page, "JupyterLab Light")
    main_page.wait_background("light")
