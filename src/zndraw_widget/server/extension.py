"""The Jupyter server extension: the data channel inside a running Jupyter server."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import ensure_async
from tornado import web
from traitlets import Float, Int, TraitType, Unicode

from ..caller import User
from ..runtime import Runtime
from ..settings import SHARED_OPTIONS, Option, Settings
from .control import ControlHandler
from .handlers import build_handlers
from .probes import metrics_handler

AUTH_RESOURCE = "zndraw"


def server_user() -> User:
    """The caller of every request: the Jupyter server's own single user, an admin.

    Not the identity provider's user: without a login, jupyter_server makes a new anonymous
    user for each token request without a cookie, so one person would be many users.
    """
    return User(getpass.getuser(), admin=True)


def hub_identity(current_user: Any) -> User | None:
    """Under JupyterHub (its identity provider makes ``current_user``): the hub user making
    the request, with the hub's groups and admin flag; else None."""
    model = getattr(current_user, "hub_user", None)
    if model is None:
        return None
    from .hub_auth import hub_user  # jupyterhub is installed where its identity provider runs

    return hub_user(model)


class JupyterAuth(APIHandler):
    """Jupyter's authentication (token, or cookie plus XSRF) and authorization."""

    auth_resource = AUTH_RESOURCE

    async def prepare(self) -> None:
        await super().prepare()
        if self._finished:
            return
        user = self.current_user
        if not user:
            raise web.HTTPError(403, "authentication required")
        action = "read" if self.request.method in ("GET", "HEAD") else "write"
        if not await ensure_async(self.authorizer.is_authorized(self, user, action, AUTH_RESOURCE)):
            raise web.HTTPError(403, f"user is not authorized to {action} zndraw rooms")

    @property
    def identity(self) -> User:
        return hub_identity(self.current_user) or server_user()

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        # APIHandler.finish forces JSON; keep the type a handler chose (msgpack frames).
        kwargs.setdefault("set_content_type", self._headers.get("Content-Type", "application/json"))
        return super().finish(*args, **kwargs)


class JupyterControl(WebSocketMixin, ControlHandler, JupyterHandler):
    """The control channel behind Jupyter's authentication (origin check kept)."""

    auth_resource = AUTH_RESOURCE

    @property
    def identity(self) -> User:
        return hub_identity(self.current_user) or server_user()

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        user = self.current_user
        if not await ensure_async(self.authorizer.is_authorized(self, user, "write", AUTH_RESOURCE)):
            raise web.HTTPError(403, "user is not authorized to use zndraw rooms")
        await super().get(*args, **kwargs)


def config_traits() -> dict[str, TraitType]:
    """A configurable trait per shared setting (:data:`~zndraw_widget.settings.OPTIONS`);
    None (the default) means unset: the ``ZNDRAW_*`` variable, else the default, applies."""
    kinds = {str: Unicode, int: Int, float: Float}

    def trait(option: Option) -> TraitType:
        return kinds[option.type](None, allow_none=True, config=True, help=(
            f"{option.help[0].upper()}{option.help[1:]}. Unset: ${option.env}, else "
            f"{option.describe_default()}."))

    return {option.name: trait(option) for option in SHARED_OPTIONS}


class ZnDrawWidget(ExtensionApp):
    """Serves zndraw rooms under ``{base_url}zndraw/api/``."""

    name = "zndraw_widget"
    vars().update(config_traits())  # storage_path, redis_url, max_upload_mb, ...

    def initialize_settings(self) -> None:
        self.zndraw_settings = Settings.resolve(
            {option.name: getattr(self, option.name) for option in SHARED_OPTIONS},
            default_storage=Path(jupyter_data_dir()) / "zndraw-widget")
        self.runtime = Runtime(self.zndraw_settings)
        self.settings.update({
            "zndraw_service": self.runtime.service,
            "zndraw_hub": self.runtime.hub,
            "zndraw_jobs": self.runtime.jobs,
            "zndraw_metrics": self.runtime.metrics,
            "zndraw_metrics_token": self.zndraw_settings.metrics_token,
            "zndraw_max_upload_mb": self.zndraw_settings.max_upload_mb,
        })

    def initialize_handlers(self) -> None:
        # the metrics endpoint: behind the metrics token, not Jupyter's login
        self.handlers.extend([metrics_handler("/")]
                             + build_handlers("/", JupyterAuth, JupyterControl))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Open the rooms once the server runs; if that fails (e.g. the Redis belongs with
        another storage path) serve nothing (requests answer 503 with the reason) and say
        why in the log."""
        try:
            await self.runtime.start()
        except RuntimeError as error:
            self.log.error("zndraw_widget refuses to serve rooms: %s", error)

    async def stop_extension(self) -> None:
        await self.runtime.stop()

    def current_activity(self) -> Any:
        return None
