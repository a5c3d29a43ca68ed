"""Probes for load balancers and orchestrators, answered without credentials: ``livez``
(the process answers), ``readyz`` (its state store answers; 503 otherwise) and ``health``
(version). They reveal nothing about rooms."""

from __future__ import annotations

import asyncio
import logging

from tornado import web

from .handlers import API_PREFIX, BaseHandler, HealthHandler

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


def probe_handlers(base_url: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """URL specs of the probes under ``{base_url}zndraw/api/``; mount them before the
    authenticated handlers (they answer ``health`` without a token)."""
    prefix = base_url.rstrip("/") + "/" + API_PREFIX
    return [(prefix + "/livez", LivezHandler), (prefix + "/readyz", ReadyzHandler),
            (prefix + "/health", HealthHandler)]
