"""A real JupyterHub for the tests of this package: DummyAuthenticator, users alice, bob
(group lab) and carol, SimpleLocalProcessSpawner, configurable-http-proxy, and the zndraw
service (``python -m zndraw_widget serve``, started by the hub) on its own Redis and
storage. One hub per test module; kernels in the users' servers run code through the
kernels websocket; Chromium logs in at the hub's login form."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("jupyterhub")

from ..conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_redis, stop_process  # noqa: E402

SRC = Path(__file__).resolve().parents[2] / "src"
BUNDLE = SRC / "zndraw_widget" / "static" / "widget.js"
USERS = ("alice", "bob", "carol")
SERVICE = "zndraw"
TIMEOUT = 60.0

# The hub of docs/jupyterhub.md (service mode) on loopback ports, with a "tester" service
# whose token starts servers and makes users' tokens.
HUB_CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{dir}/cookie_secret"
c.ConfigurableHTTPProxy.pid_file = "{dir}/proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {users!r}
c.JupyterHub.load_groups = {{"lab": {{"users": ["bob"]}}}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{dir}/home/{{username}}"
c.Spawner.args = {spawner_args!r}
c.Spawner.default_url = "/lab"
c.Spawner.environment = {spawner_env!r}
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
# every user may use the zndraw service and find it; their servers' tokens too
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service={service}",
                                 "read:services!service={service}"]}},
    {{"name": "tester", "scopes": ["admin:users", "admin:servers", "tokens", "read:users"],
      "services": ["tester"]}},
]
c.Spawner.server_token_scopes = [
    "users:activity!user", "access:servers!server",
    "access:services!service={service}", "read:services!service={service}", "tokens!user",
]
c.JupyterHub.services = [
    {{"name": "{service}", "url": "http://127.0.0.1:{service_port}", "oauth_no_confirm": True,
      "command": {service_command!r}, "environment": {service_env!r}}},
    {{"name": "tester", "api_token": "{admin_token}"}},
]
"""


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """No in-process Jupyter server here: pytest-jupyter's loop fixture would fight
    Playwright's."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    yield


def wait_until(check, what: str, timeout: float = TIMEOUT, log: Path | None = None):
    """Poll ``check()`` (a readiness probe) until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log else ""
            pytest.fail(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.2)  # polling interval of a readiness probe, not synchronisation


class Hub:
    """A running hub: ``url`` its public origin, ``api(...)`` its REST API (as the tester
    service unless a token is given)."""

    def __init__(self, url: str, admin_token: str, directory: Path, log: Path) -> None:
        self.url = url
        self.admin_token = admin_token
        self.dir = directory
        self.log = log
        self.http = httpx.Client(timeout=TIMEOUT)
        self._tokens: dict[str, str] = {}

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return self.http.request(method, f"{self.url}/hub/api/{path}", headers=headers, **kwargs)

    def token(self, user: str) -> str:
        """An API token of ``user`` with all of their permissions (made once)."""
        if user not in self._tokens:
            response = self.api("POST", f"users/{user}/tokens", json={"note": "tests"})
            assert response.status_code in (200, 201), response.text
            self._tokens[user] = response.json()["token"]
        return self._tokens[user]

    def service(self, path: str = "") -> str:
        """A URL of the zndraw service through the hub's proxy."""
        return f"{self.url}/services/{SERVICE}/{path}"

    def spawn(self, user: str) -> None:
        """Have the hub start ``user``'s single-user server (see :meth:`start_server`)."""
        response = self.api("POST", f"users/{user}/server")
        assert response.status_code in (201, 202, 400), response.text  # 400: started before

    def start_server(self, user: str) -> None:
        """Start ``user``'s single-user server and wait until the hub says it is ready."""
        self.spawn(user)
        wait_until(lambda: self.api("GET", f"users/{user}").json()["servers"]
                   .get("", {}).get("ready"), f"{user}'s server", log=self.log)

    def home(self, user: str) -> Path:
        return self.dir / "home" / user


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[Hub]:
    if shutil.which("configurable-http-proxy") is None:
        pytest.fail("configurable-http-proxy is missing: scripts/install-test-deps.sh "
                    "(npm install -g configurable-http-proxy)")
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE} is missing: npm run build")
    directory = tmp_path_factory.mktemp("hub")
    redis, redis_url = start_redis(tmp_path_factory.mktemp("hub-redis"))
    settings = directory / "lab-settings"  # no "news?" toast over the widget
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    (directory / "jupyter-config").mkdir()
    (directory / "jupyter-config" / "jupyter_server_config.json").write_text(json.dumps(
        {"LabApp": {"expose_app_in_browser": True, "news_url": ""}}))
    for user in USERS:
        (directory / "home" / user).mkdir(parents=True)
    port, admin_token = free_port(), uuid.uuid4().hex
    pythonpath = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    base_env = {"PYTHONPATH": pythonpath, "PATH": os.environ["PATH"]}
    config = HUB_CONFIG.format(
        port=port, hub_port=free_port(), proxy_api_port=free_port(), dir=directory,
        users=set(USERS), service=SERVICE, service_port=free_port(), admin_token=admin_token,
        spawner_args=["--allow-root"] if os.getuid() == 0 else [],
        spawner_env={**base_env, "JUPYTERLAB_SETTINGS_DIR": str(settings),
                     "JUPYTER_CONFIG_DIR": str(directory / "jupyter-config")},
        service_command=[sys.executable, "-m", "zndraw_widget", "serve", "--redis-url",
                         redis_url, "--storage", str(directory / "zndraw")],
        service_env=base_env)
    (directory / "jupyterhub_config.py").write_text(config)
    log_path = directory / "hub.log"
    log = open(log_path, "w")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTERHUB_", "ZNDRAW_", "JPY_"))}
    env["PYTHONPATH"] = pythonpath
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(directory / "jupyterhub_config.py")],
        cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Hub(f"http://127.0.0.1:{port}", admin_token, directory, log_path)
    try:
        wait_until(lambda: process.poll() is None and running.api("GET", "").status_code == 200,
                   "the hub", log=log_path)
        # the service answers through the proxy once it listens
        token = running.token("alice")
        wait_until(lambda: running.http.get(
            running.service("zndraw/api/health"),
            headers={"Authorization": f"token {token}"}).status_code == 200,
            "the zndraw service", log=log_path)
        for user in ("alice", "bob"):  # their servers start side by side
            running.spawn(user)
        yield running
    finally:
        running.http.close()
        stop_process(process, 30)  # the hub stops its service, proxy and servers
        log.close()
        stop_process(redis)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Kernel:
    """A kernel in ``user``'s server, driven over the kernels websocket (as a notebook)."""

    def __init__(self, hub: Hub, user: str) -> None:
        import websocket

        self.token = hub.token(user)
        headers = {"Authorization": f"token {self.token}"}
        base = f"{hub.url}/user/{user}/api/kernels"
        response = hub.http.post(base, headers=headers, json={"name": "python3"})
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]
        self.session = uuid.uuid4().hex
        self.socket = websocket.create_connection(
            f"{base.replace('http', 'ws', 1)}/{self.id}/channels",
            header=[f"Authorization: token {self.token}"], timeout=TIMEOUT)

    def run(self, code: str) -> str:
        """Run ``code``; what it printed. Fails with the traceback if it raised."""
        msg_id = uuid.uuid4().hex
        self.socket.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "test", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        output, error, replied, idle = [], None, False, False
        while not (replied and idle):
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                output.append(content["text"])
            elif kind == "error":
                error = "\n".join(content["traceback"])
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        assert error is None, error
        return "".join(output)

    def close(self) -> None:
        self.socket.close()
