"""The ``zndraw-widget`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from .config import Settings, default_storage_path


def make_parser() -> argparse.ArgumentParser:
    """The command line of ``zndraw-widget`` (its defaults read from the environment)."""
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
    backup = commands.add_parser(
        "backup", help="write every room and its frame data to a file (servers keep running)")
    backup.add_argument("--to", required=True, metavar="FILE", help="the backup file")
    restore = commands.add_parser(
        "restore", help="load a backup into an empty deployment (either store kind)")
    restore.add_argument("--from", required=True, dest="source", metavar="FILE",
                         help="a file written by 'backup'")
    for command in (serve, backup, restore):
        add_store_options(command)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.command in ("backup", "restore"):
        return run_backup(args)

    from .server.standalone import serve as run

    settings = Settings.from_env(storage_path=args.storage, redis_url=args.redis_url,
                                 redis_prefix=args.redis_prefix,
                                 max_upload_mb=args.max_upload_mb)
    base_url = "/" + args.base_url.strip("/") + "/" if args.base_url.strip("/") else "/"
    try:
        asyncio.run(run(settings, args.host, args.port, args.token, base_url,
                        ready=lambda line: print(line, flush=True),
                        allow_origins=args.allow_origins))
    except RuntimeError as error:  # e.g. the storage is in use by another process
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    return 0


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Where a deployment's rooms live: the same options for serve, backup and restore."""
    parser.add_argument("--storage", default=None,
                        help=f"storage directory (ZNDRAW_STORAGE_PATH; default: "
                             f"{default_storage_path()})")
    parser.add_argument("--redis-url", default=None,
                        help="Redis URL for several server processes (ZNDRAW_REDIS_URL); "
                             "rediss:// for TLS, redis://:password@host or "
                             "redis://user:password@host for a password")
    parser.add_argument("--redis-prefix", default=None,
                        help="prefix of every Redis key, one per deployment sharing a Redis "
                             "database (ZNDRAW_REDIS_PREFIX; default: zdw:)")


def run_backup(args: argparse.Namespace) -> int:
    """``backup --to FILE`` or ``restore --from FILE``."""
    from .backup import backup_deployment, restore_deployment
    from .errors import ZnDrawError

    settings = Settings.from_env(storage_path=args.storage, redis_url=args.redis_url,
                                 redis_prefix=args.redis_prefix)
    try:
        if args.command == "backup":
            summary = asyncio.run(backup_deployment(settings, args.to))
        else:
            summary = asyncio.run(restore_deployment(settings, args.source))
    except (RuntimeError, OSError, ZnDrawError) as error:
        print(f"zndraw-widget: error: {error}", file=sys.stderr)
        return 1
    print(f"{args.command}: {summary.rooms} rooms, {summary.frames} stored frames", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
