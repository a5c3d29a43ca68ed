"""The standalone server: the same handlers in a plain Tornado application."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import signal
from collections.abc import Sequence
from typing import Any

from tornado import httpserver, netutil, web

from ..runtime import Runtime
from ..settings import Settings
from .bounds import (
    HEADER_READ_BYTES,
    PRE_AUTH_BODY_BYTES,
    BoundedApplication,
    NotFound,
    request_summary,
)
from .control import ControlHandler
from .handlers import build_handlers
from .pages import page_handlers

CORS_HEADERS = "Authorization, Content-Type, If-None-Match, X-ZnDraw-Session, X-XSRFToken"


class TokenAuth(web.RequestHandler):
    """A shared token in ``Authorization: token <t>`` (or ``Bearer``), or ``?token=``; a
    browser that sent ``?token=`` once gets a login cookie (HttpOnly, SameSite=Strict,
    signed with a key derived from the token). A request that changes something with only
    the cookie must carry ``X-ZnDraw-Session``: a custom header, which another origin can
    send only after a CORS preflight that this server answers for ``--allow-origin`` alone.
    (Not Tornado's ``_xsrf`` cookie: cookies ignore ports, so it would collide with a
    Jupyter server's on the same host.)"""

    _by_cookie = False

    @property
    def login_cookie(self) -> str:
        """The cookie's name, one per token: servers on other ports of one host (cookies
        ignore ports) keep their own, replicas sharing a token share it."""
        return "zndraw-login-" + self.settings["cookie_secret"][:12]

    def get_current_user(self) -> str | None:
        expected = self.settings["zndraw_token"].encode()
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        given = value.strip() if scheme.lower() in ("token", "bearer") else None
        from_query = self.get_query_argument("token", None)
        given = given or from_query
        if given and hmac.compare_digest(given.encode(), expected):
            if from_query and self.request.method == "GET":
                self.set_signed_cookie(self.login_cookie, "1", expires_days=30, httponly=True,
                                       samesite="Strict", path=self.settings["zndraw_base_url"])
            return "token"
        if self.get_signed_cookie(self.login_cookie, max_age_days=30) == b"1":
            self._by_cookie = True
            return "token"
        return None

    def prepare(self) -> None:
        if self.request.method == "OPTIONS":  # a CORS preflight carries no credentials
            return
        if self.current_user is None:
            raise web.HTTPError(401, "missing or wrong token: send 'Authorization: token <t>'")
        if (self._by_cookie and self.request.method not in ("GET", "HEAD")
                and "X-ZnDraw-Session" not in self.request.headers):
            raise web.HTTPError(403, "a write authenticated by the login cookie needs the "
                                     "X-ZnDraw-Session header (cross-site request forgery)")

    def set_default_headers(self) -> None:
        origin = self.request.headers.get("Origin")
        if origin and origin in self.settings["zndraw_allow_origins"]:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Access-Control-Allow-Headers", CORS_HEADERS)
            self.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
            self.set_header("Access-Control-Expose-Headers", "ETag")
            self.set_header("Access-Control-Max-Age", "600")
            self.add_header("Vary", "Origin")

    def options(self, *args: Any, **kwargs: Any) -> None:
        """Answer a CORS preflight (allowed origins get the headers above)."""
        self.set_status(204)
        self.finish()

    @property
    def user_name(self) -> str:
        return self.current_user

    def _request_summary(self) -> str:  # what Tornado logs: never the token
        return request_summary(self)


class TokenControl(ControlHandler, TokenAuth):
    """The control channel behind the token (browsers pass it as ``?token=``, or the login
    cookie from their own origin)."""

    def check_origin(self, origin: str) -> bool:
        return super().check_origin(origin) or origin in self.settings["zndraw_allow_origins"]


def make_app(settings: Settings, token: str, base_url: str = "/",
             allow_origins: Sequence[str] = ()) -> web.Application:
    """The standalone Tornado application serving ``settings``' rooms, its pages, and CORS
    for ``allow_origins`` (e.g. a JupyterLab at another port showing ``Viewer(url=...)``)."""
    runtime = Runtime(settings)
    app = BoundedApplication(
        build_handlers(base_url, TokenAuth, TokenControl) + page_handlers(base_url, TokenAuth),
        default_handler_class=NotFound,
        zndraw_service=runtime.service,
        zndraw_hub=runtime.hub,
        zndraw_token=token,
        zndraw_base_url=base_url,
        zndraw_allow_origins=frozenset(origin.rstrip("/") for origin in allow_origins),
        zndraw_max_upload_mb=settings.max_upload_mb,
        # the same token gives the same key: replicas behind one proxy accept each other's
        cookie_secret=hmac.new(token.encode(), b"zndraw-widget login", "sha256").hexdigest(),
        websocket_ping_interval=10,
        websocket_ping_timeout=10,
    )
    app.zndraw_runtime = runtime
    return app


async def serve(settings: Settings, host: str, port: int, token: str | None,
                base_url: str = "/", ready: Any = print,
                allow_origins: Sequence[str] = ()) -> None:
    """Run the standalone server until SIGINT or SIGTERM, then stop in order: no new
    connections, the control connections release their leases and presence, the runtime
    closes."""
    token = token or secrets.token_urlsafe(24)
    app = make_app(settings, token, base_url, allow_origins)
    runtime: Runtime = app.zndraw_runtime
    await runtime.start()  # a bad storage path or a mismatched Redis fails here
    try:
        # bodies stay small until a handler has authenticated the request (handlers.py)
        server = httpserver.HTTPServer(app, xheaders=True, max_body_size=PRE_AUTH_BODY_BYTES,
                                       max_header_size=HEADER_READ_BYTES)
        sockets = netutil.bind_sockets(port, address=host)
        server.add_sockets(sockets)
        bound = sockets[0].getsockname()[1]
        ready(f"zndraw-widget serving on http://{host}:{bound}{base_url} (token: {token})\n"
              f"  open http://{host}:{bound}{base_url}?token={token} in a browser for the rooms")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()
    finally:
        await runtime.stop()
