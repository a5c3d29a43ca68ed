"""The HTTP client tries reads and keyed writes again while its server is away, with the
same idempotency key, and never repeats a write without one."""

from __future__ import annotations

import httpx
import pytest

from zndraw_widget.client.discovery import Endpoint
from zndraw_widget.client.errors import ServerNotFoundError
from zndraw_widget.client.http import HttpClient
from zndraw_widget.errors import ZnDrawError


def client_answering(*answers) -> tuple[HttpClient, list[httpx.Request]]:
    """An HttpClient whose server gives ``answers`` in turn: a status, or an exception."""
    sent: list[httpx.Request] = []
    pending = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        given = pending.pop(0)
        if isinstance(given, Exception):
            raise given
        return httpx.Response(given, json={})

    client = HttpClient(Endpoint("http://replicas/zndraw/api/", None, "test"), "s")
    client._client = httpx.Client(base_url=client.endpoint.api_url,
                                  transport=httpx.MockTransport(answer))
    return client, sent


def test_a_keyed_write_is_retried_with_its_key_until_it_lands():
    lost = httpx.RemoteProtocolError("the replica died")
    client, sent = client_answering(200, lost, 502, 503, 504, 201)
    client.json("GET", "health")  # the server was reached once
    client.json("POST", "rooms/r/frames", body=b"x", key="k-1")
    assert [r.headers.get("Idempotency-Key") for r in sent[1:]] == ["k-1"] * 5


def test_a_write_without_a_key_is_never_repeated():
    client, sent = client_answering(200, 502, httpx.ReadError("gone"))
    client.json("GET", "health")
    with pytest.raises(ZnDrawError):
        client.json("POST", "rooms/r/undo")
    with pytest.raises(ServerNotFoundError):
        client.json("POST", "rooms/r/undo")
    assert len(sent) == 3


def test_a_server_never_reached_fails_at_once():
    client, sent = client_answering(httpx.ConnectError("refused"))
    with pytest.raises(ServerNotFoundError):
        client.json("GET", "health")
    assert len(sent) == 1
