"""Finding the zndraw service of the JupyterHub a kernel runs under, and the token its
viewers' browsers get (the hub API replaced by a stand-in; tests/hub asks a real hub)."""

from __future__ import annotations

import httpx
import pytest

from zndraw_widget.client import discover, hub_service

HUB = {"JUPYTERHUB_API_URL": "http://hub:8081/hub/api", "JUPYTERHUB_API_TOKEN": "kernel-t",
       "JUPYTERHUB_USER": "ann", "JUPYTERHUB_SERVICE_PREFIX": "/user/ann/",
       "JUPYTER_SERVER_URL": "http://127.0.0.1:9999/user/ann/"}
SERVICE = {"name": "zndraw", "url": "http://10.0.0.5:8765", "prefix": "/services/zndraw/"}


class FakeHub:
    """Answers the hub API calls hub_service makes, and records them."""

    def __init__(self, services: dict[str, dict], mint: int = 201) -> None:
        self.services, self.mint, self.calls = services, mint, []

    def get(self, url: str, headers: dict, timeout: float) -> httpx.Response:
        self.calls.append(("GET", url, headers["Authorization"], None))
        name = url.rsplit("/", 1)[1]
        if name in self.services:
            return httpx.Response(200, json=self.services[name])
        return httpx.Response(404, json={"message": "no such service"})

    def post(self, url: str, headers: dict, json: dict, timeout: float) -> httpx.Response:
        self.calls.append(("POST", url, headers["Authorization"], json))
        if self.mint != 201:
            return httpx.Response(self.mint, json={"message": "forbidden"})
        return httpx.Response(201, json={"token": "viewer-t"})


@pytest.fixture
def fake_hub(monkeypatch):
    def install(services=None, mint=201) -> FakeHub:
        hub = FakeHub({"zndraw": SERVICE} if services is None else services, mint)
        monkeypatch.setattr(hub_service.httpx, "get", hub.get)
        monkeypatch.setattr(hub_service.httpx, "post", hub.post)
        return hub

    hub_service._service.cache_clear()
    hub_service._made.clear()
    yield install
    hub_service._service.cache_clear()
    hub_service._made.clear()


def test_a_kernel_under_a_hub_finds_the_service_with_the_users_token(fake_hub):
    hub = fake_hub()
    endpoint = discover(env=HUB)
    assert endpoint.api_url == "http://10.0.0.5:8765/services/zndraw/zndraw/api/"
    assert endpoint.token == "kernel-t"
    assert endpoint.browser_url == "/services/zndraw/"
    assert "JupyterHub service 'zndraw'" in endpoint.source
    assert hub.calls == [("GET", "http://hub:8081/hub/api/services/zndraw", "token kernel-t",
                          None)]
    discover(env=HUB)
    assert len(hub.calls) == 1  # asked once per process


def test_the_service_name_comes_from_the_environment_and_empty_turns_it_off(fake_hub):
    hub = fake_hub({"rooms": SERVICE})
    assert discover(env={**HUB, "ZNDRAW_HUB_SERVICE": "rooms"}).browser_url == SERVICE["prefix"]
    off = discover(env={**HUB, "ZNDRAW_HUB_SERVICE": ""})
    assert off.browser_url is None and off.source == "the JupyterHub environment"
    assert len(hub.calls) == 1


def test_without_the_service_the_users_own_server_is_used(fake_hub):
    fake_hub(services={})
    endpoint = discover(env=HUB)
    assert endpoint.api_url == "http://127.0.0.1:9999/user/ann/zndraw/api/"
    assert endpoint.browser_url is None


def test_zndraw_url_wins_over_the_hub(fake_hub):
    hub = fake_hub()
    endpoint = discover(env={**HUB, "ZNDRAW_URL": "http://elsewhere:1/"})
    assert endpoint.api_url == "http://elsewhere:1/zndraw/api/" and not hub.calls


def test_the_browser_gets_a_token_limited_to_the_service(fake_hub, monkeypatch):
    hub = fake_hub()
    assert hub_service.viewer_token(HUB) == "viewer-t"
    assert hub_service.viewer_token(HUB) == "viewer-t"
    [(method, url, auth, body)] = hub.calls  # made once per kernel
    assert (method, url, auth) == ("POST", "http://hub:8081/hub/api/users/ann/tokens",
                                   "token kernel-t")
    assert body["scopes"] == ["access:services!service=zndraw"]
    assert body["expires_in"] == hub_service.BROWSER_TOKEN_SECONDS
    later = hub_service.time.monotonic() + hub_service.BROWSER_TOKEN_SECONDS
    monkeypatch.setattr(hub_service.time, "monotonic", lambda: later)
    hub_service.viewer_token(HUB)
    assert len(hub.calls) == 2  # a kernel running for days gives new views a fresh token


def test_the_browser_gets_the_kernels_token_when_the_hub_makes_none(fake_hub):
    fake_hub(mint=403)  # the kernel's token lacks tokens!user
    assert hub_service.viewer_token(HUB) == "kernel-t"


def test_an_unreachable_hub_is_asked_again(fake_hub, monkeypatch):
    hub = fake_hub()

    def unreachable(*args, **kwargs):
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(hub_service.httpx, "get", unreachable)
    assert hub_service.find_service(HUB) is None
    monkeypatch.setattr(hub_service.httpx, "get", hub.get)
    assert hub_service.find_service(HUB) == ("http://10.0.0.5:8765/services/zndraw/",
                                             "/services/zndraw/")


def test_a_viewer_under_a_hub_points_its_browser_at_the_proxy(fake_hub, monkeypatch):
    from zndraw_widget import Viewer

    for name in ("ZNDRAW_URL", "ZNDRAW_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in HUB.items():
        monkeypatch.setenv(name, value)
    fake_hub()
    viewer = Viewer(room="abc")
    assert viewer.api_url == "/services/zndraw/"
    sent = []
    monkeypatch.setattr(viewer, "send", sent.append)
    viewer._handle_custom_msg({"type": "credentials"}, [])
    assert sent == [{"type": "credentials", "token": "viewer-t"}]
