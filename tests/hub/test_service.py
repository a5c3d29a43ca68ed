"""The zndraw service behind a real JupyterHub (hub service mode), end to end: logins,
tokens, discovery from a kernel, a viewer in another user's browser, sharing.

The tests run in file order and share one hub and alice's kernel.
"""

from __future__ import annotations

import json
import uuid

import msgpack
import pytest

from zndraw_widget import codec
from zndraw_widget.caller import User
from zndraw_widget.frames import FrameBatch
from zndraw_widget.server.hub_auth import hub_user

from ..conftest import make_atoms
from ..e2e.viewer_page import ViewerPage
from .conftest import SERVICE, Kernel

ROOM = "shared"
TIMEOUT_MS = 60_000

MOLECULES = """\
import ase
def molecule(i):
    return ase.Atoms("H2O", positions=[[0, 0, 0], [0.96 + 0.1 * i, 0, 0], [-0.24, 0.93, 0]])
"""


def api(hub, user: str | None, method: str, path: str, **kwargs):
    """A call of the service's API through the hub's proxy, with ``user``'s token."""
    headers = kwargs.pop("headers", {})
    if user is not None:
        headers["Authorization"] = f"token {hub.token(user)}"
    return hub.http.request(method, hub.service(f"zndraw/api/{path}"), headers=headers,
                            **kwargs)


@pytest.fixture(scope="module")
def alice(hub):
    """A kernel in alice's server, where ``room`` is the room ``shared`` she made."""
    hub.start_server("alice")
    kernel = Kernel(hub, "alice")
    kernel.run(MOLECULES)
    yield kernel
    kernel.close()


def test_a_browser_not_logged_in_gets_the_hubs_login(hub):
    response = hub.http.get(hub.service(f"rooms/{ROOM}"), follow_redirects=True)
    assert response.status_code == 200
    assert response.url.path == "/hub/login"


def test_a_kernel_without_a_login_gets_401_and_a_token_without_the_scope_403(hub):
    assert api(hub, None, "GET", "rooms").status_code == 401
    assert api(hub, None, "GET", "rooms", headers={"Authorization": "token nope"}
               ).status_code == 401
    limited = hub.api("POST", "users/carol/tokens",
                      json={"scopes": ["read:users:name!user=carol"]}).json()["token"]
    response = api(hub, None, "GET", "rooms", headers={"Authorization": f"token {limited}"})
    assert response.status_code == 403
    assert f"access:services!service={SERVICE}" in response.json()["message"]


def test_a_hub_token_is_the_hub_user_with_groups(hub):
    model = hub.api("GET", "user", token=hub.token("bob")).json()
    assert hub_user(model) == User("bob", frozenset({"lab"}), admin=False)
    from websocket import create_connection

    socket = create_connection(hub.service("zndraw/api/ws").replace("http", "ws", 1),
                               header=[f"Authorization: token {hub.token('bob')}"])
    try:
        hello = msgpack.unpackb(socket.recv(), raw=False)
    finally:
        socket.close()
    assert hello["type"] == "hello" and hello["user"] == "bob"


def test_a_kernel_finds_the_service_and_creates_a_room(hub, alice):
    printed = alice.run(
        "from zndraw_widget import Room\n"
        f"room = Room({ROOM!r}, create=True)\n"
        "room.extend([molecule(0), molecule(1)])\n"
        "print(room.endpoint.source, room.endpoint.browser_url, len(room))")
    assert printed.split() == ["the", "JupyterHub", "service", f"'{SERVICE}'",
                               f"/services/{SERVICE}/", "2"]
    info = api(hub, "alice", "GET", f"rooms/{ROOM}").json()
    assert info["length"] == 2
    big = codec.encode(FrameBatch.from_atoms(make_atoms(2, natoms=20_000)).to_wire())
    assert len(big) > 64 << 10  # read once the hub vouched for alice: a stale base, 409
    stale = api(hub, "alice", "POST", f"rooms/{ROOM}/frames", params={"base_version": 99},
                content=big, headers={"X-ZnDraw-Session": "big"})
    assert stale.status_code == 409, stale.text


def test_alice_shares_the_room_with_bob_and_group_lab(hub, alice):
    assert api(hub, "alice", "GET", f"rooms/{ROOM}").json()["owner"] == "alice"
    alice.run("room.share('bob', 'write')")
    response = api(hub, "alice", "PUT", f"rooms/{ROOM}/access", json={
        "grants": {"user:bob": "write", "group:lab": "read"}})
    assert response.status_code == 200, response.text
    access = api(hub, "bob", "GET", f"rooms/{ROOM}/access").json()
    assert access["grants"] == {"user:bob": "write", "group:lab": "read"}
    assert access["role"] == "write"


@pytest.fixture(scope="module")
def bob_page(hub, browser):
    """Bob logged in at the hub in Chromium (through the proxy's login form)."""
    hub.start_server("bob")
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", "bob")
    page.fill("#password_input", "any")
    page.click("#login_submit")
    page.wait_for_url(f"{hub.url}/user/bob/**")
    yield page
    context.close()


def test_bobs_viewer_shows_alices_edits_live_and_bobs_edit_reaches_alice(hub, alice, bob_page):
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "viewer", "metadata": {},
                   "outputs": [], "source": f"from zndraw_widget import Viewer\n"
                                             f"viewer = Viewer(room={ROOM!r})\nviewer"}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (hub.home("bob") / "view.ipynb").write_text(json.dumps(notebook))
    page = bob_page
    viewer = ViewerPage(page)
    page.goto(f"{hub.url}/user/bob/lab/workspaces/{uuid.uuid4().hex}/tree/view.ipynb?reset")
    viewer.wait_kernel_idle()
    viewer.run_all_cells()
    viewer.wait_marker("length", "2")
    viewer.wait_marker("control", "open")
    alice.run("room.append(molecule(2))")  # alice's next edit shows in bob's view, live
    viewer.wait_marker("length", "3")
    viewer.kernel_execute(  # bob's kernel: his edit reaches alice
        "import ase\nviewer.frames.append(ase.Atoms('He', positions=[[0, 0, 0]]))")
    viewer.wait_marker("length", "4")
    assert alice.run("print(len(room), room[-1].get_chemical_symbols())").split() == [
        "4", "['He']"]


def test_bobs_browser_logs_in_to_the_service_through_the_hub(hub, bob_page):
    """The service's own viewer page: the hub's OAuth, then the cookie (and the websocket
    with it)."""
    page = bob_page
    viewer = ViewerPage(page)
    page.goto(hub.service(f"rooms/{ROOM}"))
    viewer.wait_marker("length", "4")
    viewer.wait_marker("control", "open")
    assert page.url == hub.service(f"rooms/{ROOM}")
    # a write with the cookie needs the hub's XSRF token (the page has it in a cookie)
    statuses = page.evaluate("""async (url) => {
        const xsrf = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/);
        const write = (headers) => fetch(url, {method: 'POST', body: '{}',
            headers: {'X-ZnDraw-Session': 'page-of-bob', ...headers}});
        const forged = await write({});
        const sent = await write({'X-XSRFToken': decodeURIComponent(xsrf[1])});
        return [forged.status, sent.status];
    }""", hub.service(f"zndraw/api/rooms/{ROOM}/leases/presenter"))
    assert statuses[0] in (401, 403) and statuses[1] == 200, statuses


def test_carol_does_not_see_the_room(hub):
    rooms = api(hub, "carol", "GET", "rooms").json()["rooms"]
    assert ROOM not in [room["name"] for room in rooms]
    response = api(hub, "carol", "GET", f"rooms/{ROOM}")
    assert response.status_code == 404
    missing = api(hub, "carol", "GET", "rooms/never-made")
    assert response.json()["message"].replace(ROOM, "X") == \
        missing.json()["message"].replace("never-made", "X")


def test_alices_session_is_refused_from_bobs_credentials(hub, alice):
    session = alice.run("print(room.session)").strip()
    response = api(hub, "bob", "POST", f"rooms/{ROOM}/leases/order",
                   headers={"X-ZnDraw-Session": session}, json={})
    assert response.status_code == 403
    assert "belongs to another user" in response.json()["message"]
