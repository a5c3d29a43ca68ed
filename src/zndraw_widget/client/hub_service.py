"""The zndraw service of the JupyterHub a kernel runs under (hub service mode).

In a user's server the hub gives the kernel ``JUPYTERHUB_API_URL`` and the user's
``JUPYTERHUB_API_TOKEN``; the hub API names the service's address (``GET services/<name>``,
the name from ``ZNDRAW_HUB_SERVICE``, default ``zndraw``; empty turns the lookup off). The
kernel talks to the service directly with the user's token; the browser reaches it through
the hub's proxy (the service's prefix on the page's origin) with a token the kernel gives it,
limited to this service (see ``docs/jupyterhub.md``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping

import httpx

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "zndraw"
#: Lifetime of the browser's token (seconds): a view open longer must be reloaded.
BROWSER_TOKEN_SECONDS = 7 * 24 * 3600
TIMEOUT = 10.0


def service_name(env: Mapping[str, str]) -> str:
    """The hub service to look for ("" : none)."""
    return env.get("ZNDRAW_HUB_SERVICE", DEFAULT_SERVICE).strip()


def find_service(env: Mapping[str, str]) -> tuple[str, str] | None:
    """``(url, prefix)`` of the hub's zndraw service, if this process runs under a hub
    that has one this user may see; None otherwise."""
    name = service_name(env)
    hub_api, token = env.get("JUPYTERHUB_API_URL"), env.get("JUPYTERHUB_API_TOKEN")
    if not (name and hub_api and token):
        return None
    try:
        return _service(hub_api.rstrip("/") + "/", token, name)
    except httpx.HTTPError as error:  # not remembered: the next Room asks again
        log.warning("cannot ask JupyterHub for the %r service: %s", name, error)
        return None


@functools.lru_cache(maxsize=8)
def _service(hub_api: str, token: str, name: str) -> tuple[str, str] | None:
    """The hub's answer, remembered for the process (a transport error raises)."""
    response = httpx.get(f"{hub_api}services/{name}", timeout=TIMEOUT,
                         headers={"Authorization": f"token {token}"})
    if response.status_code != 200:  # no such service, or this token may not read it
        return None
    model = response.json()
    url, prefix = model.get("url"), model.get("prefix")
    if not (url and prefix):  # an external service without a URL, or not proxied
        return None
    return url.rstrip("/") + prefix, prefix


_made: dict[tuple[str, str, str, str], tuple[str, float]] = {}


def browser_token(hub_api: str, user: str, token: str, name: str) -> str:
    """A token for the browser that may only use the ``name`` service (made once per
    kernel, again after half its lifetime); the kernel's own ``token`` when the hub refuses
    to make one (the kernel's token lacks ``tokens!user``)."""
    key = (hub_api, user, token, name)
    made = _made.get(key)
    if made is not None and time.monotonic() - made[1] < BROWSER_TOKEN_SECONDS / 2:
        return made[0]
    fresh = _make_browser_token(*key)
    if fresh is None:
        return token
    _made[key] = (fresh, time.monotonic())
    return fresh


def _make_browser_token(hub_api: str, user: str, token: str, name: str) -> str | None:
    try:
        response = httpx.post(
            f"{hub_api.rstrip('/')}/users/{user}/tokens", timeout=TIMEOUT,
            headers={"Authorization": f"token {token}"},
            json={"scopes": [f"access:services!service={name}"],
                  "expires_in": BROWSER_TOKEN_SECONDS, "note": "zndraw-widget viewers"})
    except httpx.HTTPError as error:
        log.warning("cannot ask JupyterHub for a viewer token: %s", error)
        return None
    if response.status_code not in (200, 201):
        return None
    return response.json()["token"]


def viewer_token(env: Mapping[str, str]) -> str:
    """The token this kernel gives its viewers' browsers (see :func:`browser_token`)."""
    return browser_token(env["JUPYTERHUB_API_URL"], env["JUPYTERHUB_USER"],
                         env["JUPYTERHUB_API_TOKEN"], service_name(env))
