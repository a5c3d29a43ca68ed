"""One settings schema: precedence (given > ZNDRAW_* > default) in the extension and in
``serve``, the README's table, and the Redis/storage deployment check."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zndraw_widget import cli
from zndraw_widget.deployment import DeploymentMismatch
from zndraw_widget.errors import Unavailable
from zndraw_widget.runtime import Runtime
from zndraw_widget.settings import OPTIONS, SHARED_OPTIONS, Settings

from .conftest import ServerProcess

README = Path(__file__).parents[1] / "README.md"


def test_settings_fields_are_the_shared_options():
    fields = {field.name: field.default for field in dataclasses.fields(Settings)}
    assert list(fields) == [option.name for option in SHARED_OPTIONS]
    for option in SHARED_OPTIONS[1:]:  # the storage path's default depends on the mount
        assert fields[option.name] == option.default


def test_readme_lists_every_setting():
    text = README.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `--")]
    for option in OPTIONS:
        assert any(f"`{option.flag}" in row and f"`{option.env}`" in row for row in rows), option
    for option in SHARED_OPTIONS:
        assert re.search(rf"^c\.ZnDrawWidget\.{option.name} = ", text, re.M), option.name


def test_given_beats_environment_beats_default():
    env = {"ZNDRAW_CACHE_MB": "7", "ZNDRAW_LEASE_TTL": "3", "ZNDRAW_STORAGE_PATH": "/env/path"}
    settings = Settings.resolve({"cache_mb": 5, "redis_url": None}, env=env)
    assert (settings.cache_mb, settings.lease_ttl, settings.history_depth) == (5, 3.0, 100)
    assert settings.storage_path == Path("/env/path")
    assert Settings.resolve({}, default_storage=Path("/mount"), env={}).storage_path == \
        Path("/mount")


@pytest.mark.parametrize("ttl", ["0", "-1", "inf", "nan"])
def test_a_job_ttl_that_is_no_positive_finite_number_is_refused(ttl):
    with pytest.raises(ValueError, match="job_ttl must be a positive number of seconds"):
        Settings.resolve({}, env={"ZNDRAW_JOB_TTL": ttl})


@pytest.mark.parametrize("timeout", ["-1", "inf", "nan"])
def test_a_job_queue_timeout_that_is_no_finite_number_of_seconds_is_refused(timeout):
    with pytest.raises(ValueError, match="job_queue_timeout must be a number of seconds"):
        Settings.resolve({}, env={"ZNDRAW_JOB_QUEUE_TIMEOUT": timeout})


def test_serve_flags_beat_the_environment(monkeypatch):
    seen = {}

    async def run(settings, host, port, token, base_url, ready, allow_origins, users_file, hub,
                  listening=None):
        seen.update(settings=settings, port=port, base_url=base_url, origins=allow_origins,
                    users=users_file)

    monkeypatch.setattr("zndraw_widget.server.standalone.serve", run)
    for name, value in {"ZNDRAW_CACHE_MB": "7", "ZNDRAW_RECLAIM_INTERVAL": "60",
                        "ZNDRAW_PORT": "9000", "ZNDRAW_BASE_URL": "svc",
                        "ZNDRAW_ALLOW_ORIGINS": "http://a, http://b",
                        "ZNDRAW_STORAGE_PATH": "/env/path"}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", "--cache-mb", "5", "--storage", "/flag/path"]) == 0
    settings = seen["settings"]
    assert (settings.cache_mb, settings.reclaim_interval, seen["port"]) == (5, 60.0, 9000)
    assert settings.storage_path == Path("/flag/path")
    assert seen["base_url"] == "/svc/" and seen["origins"] == ["http://a", "http://b"]
    assert cli.main(["serve", "--allow-origin", "http://c"]) == 0
    assert seen["origins"] == ["http://c"] and seen["settings"].storage_path == Path("/env/path")


def test_serve_started_by_jupyterhub_listens_where_the_hub_says(monkeypatch):
    seen = {}

    async def run(settings, host, port, token, base_url, ready, allow_origins, users_file, hub,
                  listening=None):
        seen.update(host=host, port=port, base_url=base_url, hub=hub)

    monkeypatch.setattr("zndraw_widget.server.standalone.serve", run)
    monkeypatch.setenv("ZNDRAW_PORT", "9000")
    assert cli.main(["serve"]) == 0
    assert seen["hub"] is False and seen["port"] == 9000
    for name, value in {"JUPYTERHUB_SERVICE_NAME": "zndraw",
                        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101",
                        "JUPYTERHUB_SERVICE_PREFIX": "/services/zndraw/"}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 0
    assert seen == {"host": "127.0.0.1", "port": 10101, "base_url": "/services/zndraw/",
                    "hub": True}
    assert cli.main(["serve", "--port", "7"]) == 0 and seen["port"] == 7  # flags win


@pytest.fixture
def jp_server_config(request, tmp_path, monkeypatch):
    """The extension with the traits of the test's parameter, ZNDRAW_STORAGE_PATH set."""
    monkeypatch.setenv("ZNDRAW_STORAGE_PATH", str(tmp_path / "from-env"))
    monkeypatch.setenv("ZNDRAW_LEASE_TTL", "4")
    return {"ServerApp": {"jpserver_extensions": {"zndraw_widget": True}},
            "ZnDrawWidget": request.param}


def extension_settings(serverapp) -> Settings:
    return serverapp.extension_manager.extension_points["zndraw_widget"].app.zndraw_settings


@pytest.mark.parametrize("jp_server_config", [{}], indirect=True)
def test_extension_without_traits_takes_the_environment(jp_serverapp, tmp_path):
    settings = extension_settings(jp_serverapp)
    assert settings.storage_path == tmp_path / "from-env"  # JupyterHub spawner's environment
    assert settings.lease_ttl == 4.0


@pytest.mark.parametrize("jp_server_config", [
    {"storage_path": "/from/config", "cache_mb": 16, "reclaim_interval": 0.0}], indirect=True)
def test_extension_traits_beat_the_environment(jp_serverapp):
    settings = extension_settings(jp_serverapp)
    assert settings.storage_path == Path("/from/config")
    assert (settings.cache_mb, settings.reclaim_interval, settings.lease_ttl) == (16, 0.0, 4.0)


def test_a_redis_used_with_another_storage_path_is_refused(tmp_path, own_redis):
    first = ServerProcess(tmp_path / "first", env={"ZNDRAW_REDIS_URL": own_redis})
    first.stop()
    result = subprocess.run(
        [sys.executable, "-m", "zndraw_widget", "serve", "--port", "0",
         "--storage", str(tmp_path / "second"), "--redis-url", own_redis],
        capture_output=True, text=True, timeout=60, env=os.environ)
    assert result.returncode == 1
    message = result.stderr
    assert "zndraw-widget: error: the Redis at " + own_redis in message
    assert str(tmp_path / "first") in message and str(tmp_path / "second") in message
    assert "ZNDRAW_STORAGE_PATH" in message

    again = ServerProcess(tmp_path / "first", env={"ZNDRAW_REDIS_URL": own_redis})
    again.stop()  # the storage it belongs with is still accepted


def test_a_refused_runtime_answers_unavailable(tmp_path, own_redis):
    async def scenario():
        first = Runtime(Settings(tmp_path / "first", redis_url=own_redis))
        await first.start()
        await first.stop()
        second = Runtime(Settings(tmp_path / "second", redis_url=own_redis))
        with pytest.raises(DeploymentMismatch, match="must use the same storage path"):
            await second.start()
        with pytest.raises(Unavailable, match=str(tmp_path / "first")):
            second.service()

    asyncio.run(scenario())
