"""The standalone server's pages (room list, full-page viewer), its login cookie and CORS,
over HTTP against a real ``zndraw-widget serve`` process (the full-page viewer in Chromium:
tests/e2e/test_standalone.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from zndraw_widget import Room

from ..conftest import ServerProcess, add_user, make_atoms

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "src" / "zndraw_widget" / "static" / "widget.js"
JUPYTER = "http://127.0.0.1:8888"  # an allowed origin, as a JupyterLab showing Viewer(url=)

pytestmark = pytest.mark.usefixtures("no_ambient_server")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("pages"), "--allow-origin", JUPYTER)
    yield process
    process.stop()


@pytest.fixture
def browser_like(site):
    """A client that keeps cookies, as a browser does."""
    with httpx.Client(base_url=site.base, follow_redirects=False, timeout=30) as client:
        yield client


def test_pages_need_the_token_once_then_the_cookie(site, browser_like):
    refused = browser_like.get("")
    assert refused.status_code == 401
    assert "?token=" in refused.text and "text/html" in refused.headers["content-type"]
    assert browser_like.get("", params={"token": "wrong"}).status_code == 401
    first = browser_like.get("", params={"token": site.token, "offset": "0"})
    assert first.status_code == 302  # logged in: the token leaves the address bar
    assert first.headers["location"] == "/?offset=0"
    cookie = first.headers["set-cookie"]
    assert "zndraw-login-" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert site.token not in cookie  # a signed flag, not the token itself
    page = browser_like.get("")  # the cookie alone now
    assert page.status_code == 200 and "<h1>Rooms</h1>" in page.text
    assert browser_like.get("zndraw/api/rooms").status_code == 200  # and for the API


def test_a_cookie_alone_cannot_write(site, browser_like):
    """Cross-site request forgery: a write with only the login cookie (a form posted from
    another site) is refused; the viewer's requests carry X-ZnDraw-Session, which another
    origin could send only after a CORS preflight."""
    browser_like.get("", params={"token": site.token})
    forged = browser_like.post("zndraw/api/rooms", json={"name": "forged"})
    assert forged.status_code == 403 and "X-ZnDraw-Session" in forged.text
    made = browser_like.post("zndraw/api/rooms", json={"name": "made-by-page"},
                             headers={"X-ZnDraw-Session": "page-1"})
    assert made.status_code == 201
    assert "_xsrf" not in browser_like.cookies  # nothing to collide with Jupyter's own
    # the token itself (kernels, scripts) needs no _xsrf
    assert httpx.post(site.url + "rooms", json={"name": "by-token"},
                      headers=site.headers).status_code == 201


def test_room_list_links_each_room_and_opens_by_name(site, browser_like):
    Room("listed-1", url=site.base, token=site.token).extend(make_atoms(2, natoms=3))
    browser_like.get("", params={"token": site.token})
    page = browser_like.get("").text
    assert '<a href="/rooms/listed-1">listed-1</a></td><td class=n>2</td>' in page
    opened = browser_like.get("", params={"open": "some room"})
    assert opened.status_code == 302 and opened.headers["location"] == "/rooms/some%20room"
    assert browser_like.get("", params={"offset": "x"}).status_code == 400


def test_room_page_and_bundle(site, browser_like):
    browser_like.get("", params={"token": site.token})
    page = browser_like.get("rooms/listed-2")
    assert page.status_code == 200 and '"room": "listed-2"' in page.text
    assert 'import("/static/widget.js")' in page.text
    invalid = browser_like.get("rooms/%3Cb%3Ex")  # <b>x: refused, and escaped in the answer
    assert invalid.status_code == 400
    assert "<b>" not in invalid.text and "&lt;b&gt;x" in invalid.text
    assert browser_like.get("rooms/" + "x" * 300).status_code == 400
    bundle = browser_like.get("static/widget.js")
    if BUNDLE.is_file():
        assert bundle.status_code == 200
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert bundle.content == BUNDLE.read_bytes()
        assert bundle.headers["cache-control"] == "no-cache"
        again = browser_like.get("static/widget.js",
                                 headers={"If-None-Match": bundle.headers["etag"]})
        assert again.status_code == 304


def test_cors_for_allowed_origins_only(site):
    preflight = httpx.options(site.url + "rooms", headers={
        "Origin": JUPYTER, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-zndraw-session"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == JUPYTER
    assert "X-ZnDraw-Session" in preflight.headers["access-control-allow-headers"]
    allowed = httpx.get(site.url + "rooms", headers={**site.headers, "Origin": JUPYTER})
    assert allowed.headers["access-control-allow-origin"] == JUPYTER
    other = httpx.get(site.url + "rooms", headers={**site.headers, "Origin": "http://evil"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in httpx.options(
        site.url + "rooms", headers={"Origin": "http://evil"}).headers


def test_room_list_shows_owner_role_and_share_forms_to_admins(tmp_path):
    """Each user sees the rooms they may read with their owner and the user's role; only a
    room's admin gets its share form (and the script that wires it)."""
    users = tmp_path / "users.json"
    ann, ben = add_user(users, "ann"), add_user(users, "ben")
    process = ServerProcess(tmp_path / "storage", "--users", str(users))
    try:
        shared = Room("ann-shares", url=process.base, token=ann)
        shared.extend(make_atoms(1, natoms=3))
        shared.share("ben", "read")
        Room("ann-only", url=process.base, token=ann).extend(make_atoms(1, natoms=3))

        def room_list(token: str) -> str:
            with httpx.Client(base_url=process.base, follow_redirects=False) as client:
                client.get("", params={"token": token})
                return client.get("").text

        as_ben = room_list(ben)
        assert ('<a href="/rooms/ann-shares">ann-shares</a></td><td class=n>1</td>'
                "<td>ann</td><td>read</td><td></td></tr>") in as_ben
        assert "ann-only" not in as_ben  # not shared with ben
        assert "data-zndraw-share" not in as_ben and "shareForms" not in as_ben
        as_ann = room_list(ann)
        assert "<td>ann</td><td>admin</td><td><details><summary>share</summary>" in as_ann
        assert 'data-zndraw-share="ann-shares"' in as_ann
        assert 'data-zndraw-share="ann-only"' in as_ann
        assert 'import("/static/widget.js"); shareForms(document);' in as_ann
    finally:
        process.stop()
