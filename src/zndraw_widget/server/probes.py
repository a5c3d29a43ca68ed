"""Probes for load balancers and orchestrators, answered without credentials: ``livez``
(the process answers), ``readyz`` (its state store answers; 503 otherwise) and ``health``
(version). They reveal nothing about rooms. And ``metrics`` for Prometheus, behind its own
token (``metrics_token``), not a user's."""

from __future__ import annotations

import asyncio
import logging

from tornado import web

from ..metrics import CONTENT_TYPE, token_matches
from .base import API_PREFIX, BaseHandler, api
from .handlers import HealthHandler

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds the store may take to answer a readiness probe


class LivezHandler(BaseHandler):
    async def get(self) -> None:
        self.write_json({"status": "alive"})


class ReadyzHandler(BaseHandler):
    async def get(self) -> None:
        try:
            await asyncio.wait_for(self.service.ping(), READY_TIMEOUT)
        except Exception as error:  # noqa: BLE001 (any failure means: not ready)
            log.warning("not ready: %r", error)
            self.write_json({"status": "unavailable", "message": str(error) or repr(error)},
                            status=503)
            return
        self.write_json({"status": "ready"})


class MetricsHandler(BaseHandler):
    """The metrics in the Prometheus text format, for ``Authorization: Bearer <metrics
    token>``; 404 when no metrics token is configured."""

    @api
    async def get(self) -> None:
        token = self.settings["zndraw_metrics_token"]
        if not token:
            raise web.HTTPError(404, "no metrics token is configured: metrics are off")
        if not token_matches(token, self.request.headers.get("Authorization", "")):
            raise web.HTTPError(401, "missing or wrong metrics token: send "
                                     "'Authorization: Bearer <metrics token>'")
        body = await self.settings["zndraw_metrics"].scrape(self.service,
                                                            self.settings["zndraw_hub"]())
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(body)


def metrics_handler(base_url: str) -> tuple[str, type[web.RequestHandler]]:
    """The URL spec of the metrics endpoint, ``{base_url}zndraw/api/metrics``."""
    return (base_url.rstrip("/") + "/" + API_PREFIX + "/metrics", MetricsHandler)


def probe_handlers(base_url: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """URL specs of the probes and the metrics under ``{base_url}zndraw/api/``; mount them
    before the authenticated handlers (they answer ``health`` without a token)."""
    prefix = base_url.rstrip("/") + "/" + API_PREFIX
    return [(prefix + "/livez", LivezHandler), (prefix + "/readyz", ReadyzHandler),
            (prefix + "/health", HealthHandler), metrics_handler(base_url)]
