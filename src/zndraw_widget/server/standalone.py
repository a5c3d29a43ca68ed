"""The standalone server: the same handlers in a plain Tornado application."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import signal
from typing import Any

from tornado import httpserver, netutil, web

from ..config import Runtime, Settings
from .control import ControlHandler
from .handlers import UploadHandler, build_handlers


class TokenAuth(web.RequestHandler):
    """A shared token in ``Authorization: token <t>`` (or ``Bearer``), or ``?token=``."""

    def get_current_user(self) -> str | None:
        expected = self.settings["zndraw_token"]
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        given = value.strip() if scheme.lower() in ("token", "bearer") else None
        given = given or self.get_query_argument("token", None)
        if given and hmac.compare_digest(given.encode(), expected.encode()):
            return "token"
        return None

    def prepare(self) -> None:
        if self.current_user is None:
            raise web.HTTPError(401, "missing or wrong token: send 'Authorization: token <t>'")

    @property
    def user_name(self) -> str:
        return self.current_user


class TokenControl(ControlHandler, TokenAuth):
    """The control channel behind the token (browsers pass it as ``?token=``)."""


def make_app(settings: Settings, token: str, base_url: str = "/") -> web.Application:
    """The standalone Tornado application serving ``settings``' rooms."""
    runtime = Runtime(settings)
    app = web.Application(
        build_handlers(base_url, TokenAuth, TokenControl),
        zndraw_service=runtime.service,
        zndraw_hub=runtime.hub,
        zndraw_token=token,
        zndraw_max_upload_mb=settings.max_upload_mb,
        websocket_ping_interval=10,
        websocket_ping_timeout=10,
    )
    app.zndraw_runtime = runtime
    return app


async def serve(settings: Settings, host: str, port: int, token: str | None,
                base_url: str = "/", ready: Any = print) -> None:
    """Run the standalone server until SIGINT or SIGTERM."""
    token = token or secrets.token_urlsafe(24)
    app = make_app(settings, token, base_url)
    server = httpserver.HTTPServer(
        app, max_body_size=UploadHandler.DRAIN_FACTOR * int(settings.max_upload_mb * (1 << 20)),
        xheaders=True)
    sockets = netutil.bind_sockets(port, address=host)
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    app.zndraw_runtime.service()  # open storage now: a bad path fails at start
    ready(f"zndraw-widget serving on http://{host}:{bound}{base_url} (token: {token})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    await app.zndraw_runtime.close()
