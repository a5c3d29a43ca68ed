"""The standalone server: the same handlers in a plain Tornado application."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import signal
from collections.abc import Callable, Sequence
from typing import Any

from tornado import httpserver, netutil, web

from ..caller import User
from ..runtime import Runtime
from ..settings import Settings
from ..users import Users
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
from .probes import probe_handlers

log = logging.getLogger(__name__)

#: Seconds a stopping server lets the HTTP requests in flight finish (a container's stop
#: timeout should be longer: Docker's and Kubernetes' default is 30 s; then SIGKILL)
FINISH_TIMEOUT = 20.0
CORS_HEADERS = ("Authorization, Content-Type, Idempotency-Key, If-None-Match, X-ZnDraw-Session, "
                "X-XSRFToken")


class TokenAuth(web.RequestHandler):
    """A user's token (from the users file, or ``--token``'s admin user "token") in
    ``Authorization: token <t>`` (or ``Bearer``), or ``?token=``; a browser that sent
    ``?token=`` once gets a login cookie naming the user (HttpOnly, SameSite=Strict,
    signed with a key derived from the tokens). A request that changes something with only
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

    def get_current_user(self) -> User | None:
        users: Users = self.settings["zndraw_users"]
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        given = value.strip() if scheme.lower() in ("token", "bearer") else None
        from_query = self.get_query_argument("token", None)
        given = given or from_query
        user = users.lookup(given) if given else None
        if user is not None:
            if from_query and self.request.method == "GET":
                self.set_signed_cookie(self.login_cookie, user.name, expires_days=30,
                                       httponly=True, samesite="Strict",
                                       path=self.settings["zndraw_base_url"])
            return user
        name = self.get_signed_cookie(self.login_cookie, max_age_days=30)
        user = users.by_name.get(name.decode()) if name else None
        self._by_cookie = user is not None
        return user

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
    def identity(self) -> User:
        return self.current_user

    def _request_summary(self) -> str:  # what Tornado logs: never the token
        return request_summary(self)


class TokenControl(ControlHandler, TokenAuth):
    """The control channel behind the token (browsers pass it as ``?token=``, or the login
    cookie from their own origin)."""

    def check_origin(self, origin: str) -> bool:
        return super().check_origin(origin) or origin in self.settings["zndraw_allow_origins"]


def make_app(settings: Settings, token: str | None, base_url: str = "/",
             allow_origins: Sequence[str] = (), users_file: str | None = None,
             hub: bool = False) -> BoundedApplication:
    """The standalone Tornado application serving ``settings``' rooms, its pages, and CORS
    for ``allow_origins`` (e.g. a JupyterLab at another port showing ``Viewer(url=...)``),
    to the users of ``users_file`` and ``token``'s admin user; with ``hub``, as a JupyterHub
    service (:mod:`.hub_auth`: the hub's users) instead."""
    runtime = Runtime(settings)
    if hub:
        from .hub_auth import HubServiceAuth, HubServiceControl, hub_settings, oauth_callback

        auth, control, login = HubServiceAuth, HubServiceControl, hub_settings()
        extra = [oauth_callback(login["zndraw_hub_auth"])]
    else:
        users = Users(users_file, token)
        if not users.by_hash:
            raise RuntimeError("no users: give a token or a users file with users")
        auth, control, extra = TokenAuth, TokenControl, []
        login = {
            "zndraw_users": users,
            # the same tokens give the same key: replicas behind one proxy accept each other's
            "cookie_secret": hmac.new(users.secret().encode(), b"zndraw-widget login",
                                      "sha256").hexdigest(),
        }
    app = BoundedApplication(
        probe_handlers(base_url) + build_handlers(base_url, auth, control)
        + page_handlers(base_url, auth) + extra,
        default_handler_class=NotFound,
        zndraw_service=runtime.service,
        zndraw_hub=runtime.hub,
        zndraw_jobs=runtime.jobs,
        zndraw_metrics=runtime.metrics,
        zndraw_metrics_token=settings.metrics_token,
        zndraw_base_url=base_url,
        zndraw_allow_origins=frozenset(origin.rstrip("/") for origin in allow_origins),
        zndraw_max_upload_mb=settings.max_upload_mb,
        websocket_ping_interval=10,
        websocket_ping_timeout=10,
        **login,
    )
    app.zndraw_runtime = runtime
    return app


async def serve(settings: Settings, host: str, port: int, token: str | None,
                base_url: str = "/", ready: Any = print,
                allow_origins: Sequence[str] = (), users_file: str | None = None,
                hub: bool = False, listening: Callable[[str, str | None], None] | None = None
                ) -> None:
    """Run the standalone server (``hub``: as a JupyterHub service) until SIGINT or SIGTERM,
    then stop in order: no new connections, the HTTP requests in flight finish (for up to
    :data:`FINISH_TIMEOUT` seconds), the control connections release their leases and
    presence and close with 1001, the runtime closes. With neither ``token`` nor
    ``users_file`` (nor ``hub``), a generated token logs in. ``listening(url, token)`` is
    called once the server listens."""
    if not (users_file or hub):
        token = token or secrets.token_urlsafe(24)
    app = make_app(settings, token, base_url, allow_origins, users_file, hub)
    runtime: Runtime = app.zndraw_runtime
    await runtime.start()  # a bad storage path or a mismatched Redis fails here
    try:
        # bodies stay small until a handler has authenticated the request (handlers.py)
        server = httpserver.HTTPServer(app, xheaders=True, max_body_size=PRE_AUTH_BODY_BYTES,
                                       max_header_size=HEADER_READ_BYTES)
        sockets = netutil.bind_sockets(port, address=host)
        server.add_sockets(sockets)
        bound = sockets[0].getsockname()[1]
        if hub:
            ready(f"zndraw-widget serving on http://{host}:{bound}{base_url} as a JupyterHub "
                  "service (hub logins)")
        else:
            login = f"token: {token}" if token else f"users: {users_file}"
            ready(f"zndraw-widget serving on http://{host}:{bound}{base_url} ({login})\n"
                  f"  open http://{host}:{bound}{base_url}?token={token or '<your token>'} in "
                  "a browser for the rooms")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if listening is not None:
            listening(f"http://{host}:{bound}{base_url}", token)
        await stop.wait()
        server.stop()
        if not await app.finish_requests(FINISH_TIMEOUT):
            log.warning("stopping with HTTP requests unfinished after %g s", FINISH_TIMEOUT)
    finally:
        await runtime.stop()
