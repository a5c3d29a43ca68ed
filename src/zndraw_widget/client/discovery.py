"""Finding the zndraw server a kernel or script should talk to.

In order: an explicit ``url`` (and ``token``); ``ZNDRAW_URL`` / ``ZNDRAW_TOKEN`` (a
standalone server); the zndraw service of the JupyterHub this kernel runs under
(:mod:`.hub_service`); the runtime file ``jpserver-$JPY_PARENT_PID.json`` of the Jupyter server
that started this kernel; the JupyterHub single-user environment. A kernel that finds none
of these (or a Jupyter server without the zndraw API) keeps rooms of its own
(:mod:`..kernel_rooms`); one whose Jupyter server does not answer does too, with a
``RuntimeWarning``, and asks the server again at the next discovery (one that refused the
connection) or ``SILENT_FOR`` seconds later (one that took it, or timed out, and said nothing).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import kernel_rooms
from .errors import ServerNotFoundError
from .hub_service import find_service, service_name

API_PATH = "zndraw/api/"

HOW_TO = (
    "pass Room(name, url=..., token=...), set ZNDRAW_URL (and ZNDRAW_TOKEN) for a standalone "
    "server started with `zndraw-widget serve`, or run in a Jupyter kernel whose server has "
    "the zndraw_widget extension enabled"
)


@dataclass(frozen=True)
class Endpoint:
    """Where the API lives (``api_url`` ends with ``zndraw/api/``) and how to log in."""

    api_url: str
    token: str | None
    source: str  # where the endpoint was found, for error messages
    #: Named by the user (``url`` or ZNDRAW_URL), not the Jupyter server running the kernel:
    #: a browser must be told where it is.
    explicit: bool = False
    #: Where a browser on the page's origin reaches the API (a JupyterHub service's prefix
    #: behind the hub's proxy); None: ``api_url`` if explicit, else the page's own server.
    browser_url: str | None = None
    #: This kernel's own rooms (:mod:`..kernel_rooms`): browsers reach them through the comm.
    local: bool = False

    def auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header that logs in with ``token`` (none without one)."""
        return {"Authorization": f"token {self.token}"} if self.token else {}


def api_url(url: str) -> str:
    """The API root for a server URL (``http://host:port/base/``) or an API URL."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ServerNotFoundError(f"the server URL {url!r} must start with http:// or https://")
    url = url.rstrip("/") + "/"
    return url if url.endswith(API_PATH) else url + API_PATH


def discover(url: str | None = None, token: str | None = None,
             env: Mapping[str, str] | None = None) -> Endpoint:
    """The endpoint to use; :class:`ServerNotFoundError` saying what to do if none is found."""
    env = os.environ if env is None else env
    if url:
        return Endpoint(api_url(url), token or env.get("ZNDRAW_TOKEN"), "the url argument",
                        explicit=True)
    if env.get("ZNDRAW_URL"):
        return Endpoint(api_url(env["ZNDRAW_URL"]), token or env.get("ZNDRAW_TOKEN"),
                        "ZNDRAW_URL", explicit=True)
    hub_token = env.get("JUPYTERHUB_API_TOKEN")
    service = find_service(env)
    if service is not None:
        url, prefix = service
        return Endpoint(api_url(url), token or hub_token,
                        f"the JupyterHub service {service_name(env)!r}", browser_url=prefix)
    found = _from_runtime_file(env)
    if found is not None:
        server_url, server_token, path = found
        endpoint = Endpoint(api_url(server_url), token or server_token or hub_token, str(path))
        if not kernel_rooms.in_kernel():
            return endpoint
        serves = _serves_api(endpoint)
        if serves:
            return endpoint
        if serves is None:
            warnings.warn(
                f"the Jupyter server at {endpoint.api_url} (from {endpoint.source}) did not "
                f"answer: using {kernel_rooms.SOURCE} until it does; rooms on that server "
                "are not seen meanwhile", RuntimeWarning, stacklevel=2)
        return kernel_rooms.endpoint()
    if hub_token and env.get("JUPYTERHUB_SERVICE_PREFIX"):
        return Endpoint(api_url(_hub_url(env)), token or hub_token, "the JupyterHub environment")
    if kernel_rooms.in_kernel():
        return kernel_rooms.endpoint()
    pid = env.get("JPY_PARENT_PID")
    where = f" (no jpserver-{pid}.json in {_runtime_dir(env)})" if pid else ""
    raise ServerNotFoundError(f"no zndraw server found{where}: {HOW_TO}")


#: Seconds a Jupyter server is given to take the probe's connection (a host that is down),
#: and to answer it.
CONNECT_TIMEOUT, ANSWER_TIMEOUT = 1.5, 10.0
#: Seconds a Jupyter server that did not answer is not asked again.
SILENT_FOR = 30.0
#: What Jupyter servers answered to :func:`_serves_api`, kept (a running server gains or
#: loses its extensions only by restarting); a server that did not answer is not here.
_answers: dict[Endpoint, bool] = {}
#: Jupyter servers that did not answer, and when (``time.monotonic()``) to ask them again.
_silent: dict[Endpoint, float] = {}


def _serves_api(endpoint: Endpoint) -> bool | None:
    """Whether the Jupyter server at ``endpoint`` has the zndraw extension; None if it did
    not answer (it may be restarting: asked again next time if it refused the connection,
    after ``SILENT_FOR`` seconds if it was silent)."""
    import httpx

    if endpoint in _answers:
        return _answers[endpoint]
    if time.monotonic() < _silent.get(endpoint, float("-inf")):
        return None
    try:
        response = httpx.get(endpoint.api_url + "health", headers=endpoint.auth_headers(),
                             timeout=httpx.Timeout(ANSWER_TIMEOUT, connect=CONNECT_TIMEOUT))
    except httpx.ConnectError:  # refused at once (a server restarting): asked again next time
        return None
    except httpx.TransportError:  # silent (a hung or unreachable host): each probe would wait
        _silent[endpoint] = time.monotonic() + SILENT_FOR
        return None
    _silent.pop(endpoint, None)
    _answers[endpoint] = response.status_code != 404
    return _answers[endpoint]


def _runtime_dir(env: Mapping[str, str]) -> Path:
    if env.get("JUPYTER_RUNTIME_DIR"):
        return Path(env["JUPYTER_RUNTIME_DIR"])
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def _from_runtime_file(env: Mapping[str, str]) -> tuple[str, str | None, Path] | None:
    """(url including base_url, token, path) of the parent Jupyter server, if it has one."""
    pid = env.get("JPY_PARENT_PID")
    if not pid or not pid.isdigit():
        return None
    path = _runtime_dir(env) / f"jpserver-{pid}.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    url = info.get("url")
    if not url:
        return None
    base_url = info.get("base_url") or "/"
    if not url.rstrip("/").endswith(base_url.rstrip("/")):
        url = url.rstrip("/") + "/" + base_url.strip("/")
    return url, info.get("token") or None, path


def _hub_url(env: Mapping[str, str]) -> str:
    """This user's server under JupyterHub: its own URL, else localhost and the prefix."""
    for name in ("JUPYTER_SERVER_URL", "JUPYTERHUB_SERVICE_URL"):
        if env.get(name):
            return env[name].replace("://0.0.0.0", "://127.0.0.1")
    port = env.get("JUPYTER_PORT", "8888")
    return f"http://127.0.0.1:{port}/{env['JUPYTERHUB_SERVICE_PREFIX'].strip('/')}/"
