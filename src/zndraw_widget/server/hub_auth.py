"""Hub service mode: the standalone server as a JupyterHub service behind the hub's proxy.

Browsers log in through the hub's OAuth (an unknown browser asking for a page is sent to
the hub's login, then back through ``oauth_callback``, which sets this service's cookie);
kernels and scripts send the user's hub API token (``Authorization: token <t>``), which
the hub checks (answers cached for a while). The caller's name, groups and admin flag are
the hub's. Needs ``pip install zndraw-widget[hub]``; see ``docs/jupyterhub.md``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import (
    HubOAuth,
    HubOAuthCallbackHandler,
    HubOAuthenticated,
    UserNotAllowed,
)
from tornado import web

from ..caller import User
from .base import API_PREFIX
from .bounds import request_summary
from .control import ControlHandler

#: How long (seconds) the hub's answer about a token or cookie is reused.
TOKEN_CACHE_SECONDS = 60


def hub_user(model: Mapping[str, Any]) -> User:
    """The user a hub user model (``GET /hub/api/user``) stands for. A hub service calling
    is named ``service:<name>``, so that it can never pass for a user of the same name."""
    kind = model.get("kind", "user")
    name = model["name"] if kind == "user" else f"{kind}:{model['name']}"
    return User(name, frozenset(model.get("groups") or ()), bool(model.get("admin")))


class HubServiceAuth(HubOAuthenticated, web.RequestHandler):
    """The hub's authentication: a hub API token, else the OAuth cookie of a browser that
    logged in through the hub; the user must hold this service's access scope
    (``access:services!service=<name>``). A browser without a login opening a page is sent
    to the hub's login; an API request gets 401. A fetch authenticated by the cookie must
    carry the hub's XSRF token (``X-XSRFToken``, the ``_xsrf`` cookie) where the hub's
    client asks for it, and a write with the cookie alone ``X-ZnDraw-Session`` (as with the
    standalone login cookie). The front end bundle is public."""

    @property
    def hub_auth(self) -> HubOAuth:
        return self.settings["zndraw_hub_auth"]

    def get_current_user(self) -> dict[str, Any] | None:
        return None  # set by prepare (the hub is asked without blocking the loop)

    async def prepare(self) -> None:
        if isinstance(self, web.StaticFileHandler):
            return  # the package's own front end, public: a module script cannot carry the
            # XSRF token the hub's client wants of a cookie-authenticated fetch
        model = await self.hub_auth.get_user(self, sync=False)
        if model:
            try:
                self.current_user = self.check_hub_user(model)
            except UserNotAllowed:
                raise web.HTTPError(
                    403, f"hub user {model['name']} may not use this service: it needs the "
                         f"scope {' or '.join(sorted(self.hub_scopes or ()))}") from None
            if (not getattr(self, "_token_authenticated", False)
                    and self.request.method not in ("GET", "HEAD")
                    and "X-ZnDraw-Session" not in self.request.headers):
                raise web.HTTPError(403, "a write authenticated by the login cookie needs the "
                                         "X-ZnDraw-Session header (cross-site request forgery)")
            return
        api = self.settings["zndraw_base_url"] + API_PREFIX + "/"
        navigates = self.request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate"
        if self.request.method == "GET" and navigates and not self.request.path.startswith(api):
            self.redirect(self.get_login_url())  # a browser: log in at the hub, then back
            return
        raise web.HTTPError(401, "log in to JupyterHub: send 'Authorization: token <your hub "
                                 "API token>' (JUPYTERHUB_API_TOKEN in a hub session)")

    @property
    def identity(self) -> User:
        """The hub user making the request."""
        return hub_user(self.current_user)

    def _request_summary(self) -> str:  # what Tornado logs: never a websocket's ?token=
        return request_summary(self)


class HubServiceControl(ControlHandler, HubServiceAuth):
    """The control channel behind the hub (browsers pass their token as ``?token=``, or
    the login cookie; Tornado's same-origin check stays)."""

    async def prepare(self) -> None:
        # A browser cannot set headers on a websocket: its token comes as ?token=, which
        # the hub's client takes only with a Sec-Fetch-Mode header that not every path
        # (browser, proxy) delivers.
        token = self.get_query_argument("token", None)
        if token and "Authorization" not in self.request.headers:
            self.request.headers["Authorization"] = f"token {token}"
        await super().prepare()


class HubOAuthCallback(HubOAuthCallbackHandler):
    """Finishes a browser's login at the hub: sets the cookie, back to the page asked for."""

    @property
    def hub_auth(self) -> HubOAuth:
        return self.settings["zndraw_hub_auth"]


def hub_settings() -> dict[str, Any]:
    """Application settings for hub service mode, from the environment the hub gives its
    service: the hub client (``zndraw_hub_auth``) and a cookie secret that replicas sharing
    the service's API token share."""
    auth = HubOAuth(cache_max_age=TOKEN_CACHE_SECONDS)
    secret = hmac.new(auth.api_token.encode(), b"zndraw-widget hub cookie", "sha256").hexdigest()
    return {"zndraw_hub_auth": auth, "cookie_secret": secret}


def oauth_callback(auth: HubOAuth) -> tuple[str, type[web.RequestHandler]]:
    """The URL spec of the OAuth callback the hub redirects browsers to after login."""
    return urlparse(auth.oauth_redirect_uri).path, HubOAuthCallback
