"""GET zndraw/api/metrics: the Prometheus text format behind its own token."""

from __future__ import annotations

import asyncio

import httpx
import msgpack
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado import httpclient, websocket

from zndraw_widget import codec
from zndraw_widget.frames import FrameBatch

from ..conftest import ServerProcess, make_atoms

METRICS_TOKEN = "scrape-me"


@pytest.fixture
def jp_server_config(jp_server_config):
    """The Jupyter extension with a metrics token."""
    jp_server_config["ZnDrawWidget"]["metrics_token"] = METRICS_TOKEN
    return jp_server_config


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of the scrape: (name, labels) -> value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped[(name, frozenset(labels.items()))]


def test_metrics_are_off_without_a_metrics_token(tmp_path):
    server = ServerProcess(tmp_path / "storage")
    try:
        response = httpx.get(server.url + "metrics", headers={"Authorization": "Bearer x"})
        assert response.status_code == 404
    finally:
        server.stop()


def test_metrics_count_writes_conflicts_lease_waits_connections_and_rooms(tmp_path):
    server = ServerProcess(tmp_path / "storage", "--metrics-token", METRICS_TOKEN)
    try:
        asyncio.run(_exercise(server))
    finally:
        server.stop()


async def _exercise(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        for token in (None, "wrong", server.token):  # a user's token is no metrics token
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await client.get("metrics", headers=headers)
            assert response.status_code == 401
        for room in ("one", "two"):
            response = await client.post("rooms", json={"name": room, "base": None})
            assert response.status_code == 201
        body = codec.encode(FrameBatch.from_atoms(make_atoms(3)).to_wire())
        response = await client.post("rooms/one/frames", params={"base_version": 0},
                                     content=body)
        assert response.status_code == 201
        response = await client.post("rooms/one/frames", params={"base_version": 0},
                                     content=body)  # based on a stale order
        assert response.status_code == 409
        response = await client.post("rooms/two/leases/order", json={},
                                     headers={"X-ZnDraw-Session": "holder"})
        assert response.status_code == 200
        response = await client.post("rooms/two/frames", params={"base_version": 0},
                                     content=body)  # the order is locked by "holder"
        assert response.status_code == 423
        connection = await websocket.websocket_connect(httpclient.HTTPRequest(
            server.url.replace("http", "ws") + "ws", headers=server.headers))
        try:
            hello = msgpack.unpackb(await connection.read_message())
            assert hello["type"] == "hello"
            response = await client.get("metrics",
                                        headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        finally:
            connection.close()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    scraped = samples(response.text)
    assert value(scraped, "zndraw_commits_total", op="insert") == 1
    assert value(scraped, "zndraw_conflicts_total") == 1
    assert value(scraped, "zndraw_lease_waits_total") == 1
    assert value(scraped, "zndraw_request_duration_seconds_count", route="FramesHandler",
                 method="POST", status="201") == 1
    assert value(scraped, "zndraw_request_duration_seconds_count", route="FramesHandler",
                 method="POST", status="409") == 1
    assert value(scraped, "zndraw_websocket_connections") == 1
    assert value(scraped, "zndraw_rooms") == 2
    assert value(scraped, "zndraw_frames") == 3
    assert value(scraped, "zndraw_stored_bytes") > 0


async def test_jupyter_serves_metrics_to_the_metrics_token_alone(jp_fetch, jp_server_config,
                                                                  tmp_path):
    async def scrape(token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await jp_fetch("zndraw", "api", "metrics", headers=headers, raise_error=False)

    assert (await scrape("wrong")).code == 401
    response = await jp_fetch("zndraw", "api", "rooms", method="POST", raise_error=False,
                              body='{"name": "one", "base": null}')
    assert response.code == 201
    response = await scrape(METRICS_TOKEN)  # no Jupyter login needed
    assert response.code == 200
    scraped = samples(response.body.decode())
    assert value(scraped, "zndraw_rooms") == 1
    assert value(scraped, "zndraw_request_duration_seconds_count", route="RoomsHandler",
                 method="POST", status="201") == 1
