"""The viewer's background follows the JupyterLab theme."""

from __future__ import annotations


def _change_theme(page, theme: str) -> None:
    page.page.evaluate("(theme) => window.jupyterapp.commands.execute("
                       "'apputils:change-theme', {theme})", theme)


# JS: the background colours of the toolbar and of the View menu's panel.
_BACKGROUNDS = """() => ['.zn-bar', '[data-role=view-menu]'].map(s => getComputedStyle(
    document.querySelector('.zn-root ' + s)).backgroundColor)"""


def test_background_follows_the_jupyterlab_theme(main_page):
    assert sum(main_page.background()) > 600  # light theme: white
    light_bar, _ = main_page.page.evaluate(_BACKGROUNDS)
    _change_theme(main_page, "JupyterLab Dark")
    try:
        main_page.wait_background("dark")
        main_page.screenshot("e2e-dark-theme.png")
        # the View menu takes the theme's colours, as the toolbar does
        main_page.open_view_menu()
        bar, menu = main_page.page.evaluate(_BACKGROUNDS)
        assert menu == bar != light_bar, (menu, bar, light_bar)
        main_page.screenshot("e2e-dark-theme-view-menu.png")
        main_page.close_view_menu()
    finally:
        _change_theme(main_page, "JupyterLab Light")
    main_page.wait_background("light")
