"""The ``zndraw-widget`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from .settings import OPTIONS, SERVE_OPTIONS, Option, Settings, resolve

#: The options saying where a deployment's rooms live: serve, backup and restore share them.
STORE_OPTIONS = tuple(o for o in OPTIONS if o.name in ("storage_path", "redis_url", "redis_prefix"))
#: The shared options a worker has no use for (it is the Celery engine; servers serve metrics
#: and fail the jobs that no worker took).
NOT_FOR_WORKERS = ("workers", "metrics_token", "job_queue_timeout")


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


def make_parser() -> argparse.ArgumentParser:
    """The command line of ``zndraw-widget``."""
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
    backup = commands.add_parser(
        "backup", help="write every room and its frame data to a file (servers keep running)")
    backup.add_argument("--to", required=True, metavar="FILE", help="the backup file")
    restore = commands.add_parser(
        "restore", help="load a backup into an empty deployment (either store kind)")
    restore.add_argument("--from", required=True, dest="source", metavar="FILE",
                         help="a file written by 'backup'")
    for command in (backup, restore):
        for option in STORE_OPTIONS:
            add_flag(command, option)
    worker = commands.add_parser(
        "worker", help="run a Celery worker for background jobs (servers with --workers celery)",
        description="Run the background jobs (file imports) that servers started with "
                    "--workers celery queue in Redis; give it the servers' --storage and "
                    "--redis-url. Needs zndraw-widget[celery].")
    for option in OPTIONS:
        if not option.serve_only and option.name not in NOT_FOR_WORKERS:
            add_flag(worker, option)
    add_user_commands(commands)
    add_open_command(commands)
    return parser


def add_open_command(commands: argparse._SubParsersAction) -> None:
    opener = commands.add_parser(
        "open", help="show trajectory files in the browser: upload them into a room",
        description="Read FILE... (any format ase reads, H5MD, or with --topology what "
                    "MDAnalysis reads) and upload them, frame by frame, into one room of the "
                    "server at --url, or of a standalone server started here (as 'serve' "
                    "would, with its flags) that keeps serving until Ctrl-C. The browser "
                    "opens at the room as soon as its first frames are in.")
    opener.add_argument("files", nargs="+", metavar="FILE", help="trajectory files, in order")
    opener.add_argument("--room", help="the room (made if missing, else appended to; "
                                       "default: named after the first file)")
    opener.add_argument("--url", help="a running zndraw server (its token: --token or "
                                      "ZNDRAW_TOKEN); default: start one here")
    opener.add_argument("--format", help="the files' ase format (default: from their names)")
    opener.add_argument("--topology", metavar="FILE",
                        help="a topology (PDB, PSF, GRO) for coordinate-only trajectories "
                             "(DCD, XTC, TRR); needs zndraw-widget[md]")
    opener.add_argument("--no-browser", dest="browser", action="store_false",
                        help="do not open a browser (the room's URL is printed)")
    for option in OPTIONS:  # the local server's, as for serve; --token also goes with --url
        add_flag(opener, option)


def main(argv: list[str] | None = None) -> int:
    parsed = make_parser().parse_args(argv)
    if parsed.command == "user":
        return user_command(parsed)
    args = vars(parsed)
    if args["command"] in ("backup", "restore"):
        return run_backup(args)
    if args["command"] == "open":
        return open_command(args)
    if args["command"] == "worker":
        return run_worker(args)
    hub = args.pop("hub") or bool(os.environ.get("JUPYTERHUB_SERVICE_NAME"))
    if hub:  # flags given win over the hub's environment
        for name, value in hub_service_env(os.environ).items():
            if args[name] is None:
                args[name] = value
    return run_server(args, hub)


def run_server(args: dict[str, Any], hub: bool = False,
               listening: Callable[[str, str | None], None] | None = None) -> int:
    """Serve with the settings and serve options in ``args`` until stopped."""
    from .server.standalone import serve as run

    try:
        settings = Settings.resolve(args)
    except ValueError as error:
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    options = resolve(SERVE_OPTIONS, args)
    base_url = options["base_url"].strip("/")
    base_url = f"/{base_url}/" if base_url else "/"
    try:
        asyncio.run(run(settings, options["host"], options["port"], options["token"], base_url,
                        ready=lambda line: print(line, flush=True),
                        allow_origins=options["allow_origins"],
                        users_file=options["users_file"], hub=hub, listening=listening))
    except ModuleNotFoundError as error:
        if error.name != "jupyterhub":
            raise
        print("zndraw-widget: error: --hub needs jupyterhub: pip install zndraw-widget[hub]",
              file=sys.stderr)
        return 1
    except (RuntimeError, ValueError) as error:  # the storage is in use, or belongs with
        print(f"zndraw-widget: error: {error}", file=sys.stderr)  # another Redis; bad users
        return 1
    return 0


def open_command(args: dict[str, Any]) -> int:
    """``open FILE...``: upload to ``--url``, or to a server started here (kept serving;
    stopped, with exit code 1, if the upload fails)."""
    from . import opening

    files, room, fmt, topology = args["files"], args["room"], args["format"], args["topology"]
    try:
        opening.check_files(files, fmt, topology)
        if args["url"]:
            opening.upload(files, args["url"], args["token"], room, fmt, topology,
                           args["browser"])
            return 0
    except opening.EXPECTED as error:
        return opening.report(error)
    failed: list[BaseException] = []

    def upload(url: str, token: str | None) -> None:
        try:
            opening.upload(files, url, token, room, fmt, topology, args["browser"])
            print("serving until Ctrl-C", flush=True)
        except Exception as error:  # reported; the server stops
            failed.append(error)
            opening.report(error)
            os.kill(os.getpid(), signal.SIGTERM)  # stops the server (its signal handler)

    status = run_server(args, listening=lambda url, token: threading.Thread(
        target=upload, args=(url, token), name="zndraw-open", daemon=True).start())
    return 1 if failed else status


def run_backup(args: dict) -> int:
    """``backup --to FILE`` or ``restore --from FILE``."""
    from .backup import backup_deployment, restore_deployment
    from .errors import ZnDrawError

    settings = Settings.resolve(args)
    try:
        if args["command"] == "backup":
            summary = asyncio.run(backup_deployment(settings, args["to"]))
        else:
            summary = asyncio.run(restore_deployment(settings, args["source"]))
    except (RuntimeError, OSError, ZnDrawError) as error:
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    print(f"{args['command']}: {summary.rooms} rooms, {summary.frames} stored frames", flush=True)
    return 0


def run_worker(args: dict) -> int:
    """``worker``: a Celery worker running the jobs of the deployment's servers."""
    try:
        settings = Settings.resolve({**args, "workers": "celery"})
        from .jobs.worker import run_worker as run

        run(settings)
    except ValueError as error:
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        if error.name != "celery":
            raise
        print("zndraw-widget: error: workers need celery: pip install zndraw-widget[celery]",
              file=sys.stderr)
        return 1
    return 0


def add_user_commands(commands: argparse._SubParsersAction) -> None:
    user = commands.add_parser("user", help="add, remove or list the users of a users file")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user; prints their new token last")
    add.add_argument("name")
    add.add_argument("--group", action="append", default=[], help="a group (repeatable)")
    add.add_argument("--admin", action="store_true", help="a server admin")
    add.add_argument("--new-token", action="store_true", help="a new token for an existing user")
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    listing = actions.add_parser("list", help="list the users")
    for action in (add, remove, listing):
        action.add_argument("--users", default=os.environ.get("ZNDRAW_USERS_FILE"),
                            metavar="FILE", required="ZNDRAW_USERS_FILE" not in os.environ,
                            help="the users file (ZNDRAW_USERS_FILE)")


def user_command(args: argparse.Namespace) -> int:
    """``zndraw-widget user add|remove|list --users FILE``."""
    from .users import UsersFile

    users = UsersFile(args.users)
    try:
        if args.action == "add":
            token = users.add(args.name, args.group, args.admin, args.new_token)
            print(f"user {args.name} can log in with the token below (shown only now):")
            print(token)
        elif args.action == "remove":
            users.remove(args.name)
            print(f"removed user {args.name}")
        else:
            for user in users.users():
                groups = ",".join(sorted(user.groups)) or "-"
                print(f"{user.name}  groups: {groups}{'  admin' if user.admin else ''}")
    except ValueError as error:
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
