"""`formcheck serve`: run the local web app under uvicorn.

In:  command-line arguments (host, port, data folder, workers, upload cap, --allow-remote).
Out: a running server until Ctrl-C; exit code 0, or 2 with a readable message for bad options.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from pathlib import Path

from server.settings import MB, Settings, default_data_dir, default_workers


def add_serve_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `serve` sub-command; its handler is `run_serve` (also set as `func`)."""
    parser = subparsers.add_parser(
        "serve",
        help="start the local web app: upload a lift and watch it back with the overlay",
        description="Start the formcheck web app. Open the printed address in a browser.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for uploads, results and the database "
        "(default $FORMCHECK_DATA_DIR or $XDG_DATA_HOME/formcheck or ~/.local/share/formcheck)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="analyses run at the same time (default: number of CPU cores)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=500,
        help="largest accepted video in MB (default 500)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding to a non-loopback address; anyone who can reach it can upload and view",
    )
    parser.set_defaults(func=run_serve)
    return parser


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def _fail(message: str) -> int:
    print(f"formcheck serve: {message}", file=sys.stderr)
    return 2


def run_serve(args: argparse.Namespace) -> int:
    """Check the options, then serve until interrupted."""
    import uvicorn

    from server.app import create_app

    if not is_loopback(args.host) and not args.allow_remote:
        return _fail(
            f"refusing to listen on {args.host}: the app has no login, so anyone on that network "
            "could upload and view lifts. Use --allow-remote if that is what you want."
        )
    if not 0 < args.port < 65536:
        return _fail(f"port must be between 1 and 65535, not {args.port}.")
    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        return _fail("--workers must be at least 1.")
    if args.max_upload_mb <= 0:
        return _fail("--max-upload-mb must be positive.")
    data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot use data folder {data_dir}: {exc.strerror}.")
    if not _port_free(args.host, args.port):
        return _fail(
            f"port {args.port} on {args.host} is already in use; pick another with --port."
        )
    settings = Settings(
        data_dir=data_dir,
        workers=workers,
        max_upload_bytes=int(args.max_upload_mb * MB),
        allow_remote=bool(args.allow_remote),
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"formcheck: open http://{shown}:{args.port}/  (data in {data_dir}; Ctrl-C stops)")
    uvicorn.run(
        create_app(settings),
        host=args.host.strip("[]"),
        port=args.port,
        log_level="info",
        timeout_graceful_shutdown=3,
    )
    return 0
