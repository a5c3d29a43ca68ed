"""The ``zndraw-widget`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from .config import Settings, default_storage_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zndraw-widget", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the standalone server",
        description="Serve rooms over HTTP. Options fall back to the ZNDRAW_* environment "
                    "variables, then to the defaults.")
    serve.add_argument("--host", default=os.environ.get("ZNDRAW_HOST", "127.0.0.1"),
                       help="address to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("ZNDRAW_PORT", 8765)),
                       help="port (default: 8765; 0 picks a free one)")
    serve.add_argument("--storage", default=None,
                       help=f"storage directory (ZNDRAW_STORAGE_PATH; default: "
                            f"{default_storage_path()})")
    serve.add_argument("--redis-url", default=None,
                       help="Redis URL for several server processes (ZNDRAW_REDIS_URL)")
    serve.add_argument("--token", default=os.environ.get("ZNDRAW_TOKEN"),
                       help="access token (ZNDRAW_TOKEN; default: generated and printed)")
    serve.add_argument("--max-upload-mb", type=float, default=None,
                       help="largest request body in MB (ZNDRAW_MAX_UPLOAD_MB; default: 500)")
    serve.add_argument("--base-url", default="/", help="URL prefix, e.g. /services/zndraw/")
    origins = os.environ.get("ZNDRAW_ALLOW_ORIGINS", "")
    serve.add_argument("--allow-origin", action="append", dest="allow_origins",
                       default=[o.strip() for o in origins.split(",") if o.strip()],
                       metavar="ORIGIN",
                       help="let pages of ORIGIN (e.g. http://127.0.0.1:8888, a JupyterLab "
                            "showing Viewer(url=...)) call this server; repeatable "
                            "(ZNDRAW_ALLOW_ORIGINS, comma-separated; default: none)")
    serve.add_argument("--users", default=os.environ.get("ZNDRAW_USERS_FILE"), metavar="FILE",
                       help="users file: each user logs in with their own token "
                            "(ZNDRAW_USERS_FILE; see 'zndraw-widget user')")
    add_user_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "user":
        return user_command(args)

    from .server.standalone import serve as run

    settings = Settings.from_env(storage_path=args.storage, redis_url=args.redis_url,
                                 max_upload_mb=args.max_upload_mb)
    base_url = "/" + args.base_url.strip("/") + "/" if args.base_url.strip("/") else "/"
    try:
        asyncio.run(run(settings, args.host, args.port, args.token, base_url,
                        ready=lambda line: print(line, flush=True),
                        allow_origins=args.allow_origins, users_file=args.users))
    except RuntimeError as error:  # e.g. the storage is in use by another process
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
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
