"""The ``zndraw-widget`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from .settings import OPTIONS, SERVE_OPTIONS, Option, Settings, resolve


def add_flag(parser: argparse.ArgumentParser, option: Option) -> None:
    """``option``'s flag; unset (None) unless given, so that the environment applies."""
    parser.add_argument(
        option.flag, dest=option.name, type=option.type, default=None,
        action="append" if option.repeatable else "store",
        metavar="ORIGIN" if option.repeatable else None,
        help=f"{option.help}{'; repeatable' if option.repeatable else ''} "
             f"({option.env}{', comma-separated' if option.repeatable else ''}; "
             f"default: {option.describe_default()})".replace("%", "%%"))


def hub_service_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Where JupyterHub wants its service (``host``, ``port``, ``base_url``), from the
    environment it starts the service with."""
    found: dict[str, Any] = {}
    if env.get("JUPYTERHUB_SERVICE_URL"):
        url = urlparse(env["JUPYTERHUB_SERVICE_URL"])
        found.update(host=url.hostname, port=url.port)
    if env.get("JUPYTERHUB_SERVICE_PREFIX"):
        found["base_url"] = env["JUPYTERHUB_SERVICE_PREFIX"]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zndraw-widget", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the standalone server",
        description="Serve rooms over HTTP. An option not given falls back to its ZNDRAW_* "
                    "environment variable, then to its default.")
    for option in OPTIONS:
        add_flag(serve, option)
    serve.add_argument(
        "--hub", action="store_true",
        help="run as a JupyterHub service: hub logins, and the address and URL prefix the hub "
             "gives (implied when JupyterHub starts it: JUPYTERHUB_SERVICE_NAME is set; needs "
             "zndraw-widget[hub])")
    args = vars(parser.parse_args(argv))
    hub = args.pop("hub") or bool(os.environ.get("JUPYTERHUB_SERVICE_NAME"))
    if hub:  # flags given win over the hub's environment
        for name, value in hub_service_env(os.environ).items():
            if args[name] is None:
                args[name] = value

    from .server.standalone import serve as run

    settings = Settings.resolve(args)
    options = resolve(SERVE_OPTIONS, args)
    base_url = options["base_url"].strip("/")
    base_url = f"/{base_url}/" if base_url else "/"
    try:
        asyncio.run(run(settings, options["host"], options["port"], options["token"], base_url,
                        ready=lambda line: print(line, flush=True),
                        allow_origins=options["allow_origins"], hub=hub))
    except ModuleNotFoundError as error:
        if error.name != "jupyterhub":
            raise
        print("zndraw-widget: error: --hub needs jupyterhub: pip install zndraw-widget[hub]",
              file=sys.stderr)
        return 1
    except RuntimeError as error:  # the storage is in use, or belongs with another Redis
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
