"""`formcheck serve`: run the local web app under uvicorn.

In:  command-line arguments (host, port, data folder, workers, upload limits, --allow-remote).
Out: a running server until Ctrl-C; exit code 0, or 2 with one readable line for bad options, an
     unusable data folder (read-only, disk full) or a busy port. With --allow-remote the access
     token is created on first start and printed once, inside the link to open.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sqlite3
import sys
from pathlib import Path

from server.security import TOKEN_FILE, load_or_create_token
from server.settings import (
    DEFAULT_LIVE_IDLE_S,
    DEFAULT_MAX_MINUTES,
    MB,
    Settings,
    default_data_dir,
    default_workers,
)
from server.storage import Store


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
        "--max-minutes",
        type=float,
        default=DEFAULT_MAX_MINUTES,
        help=f"longest accepted video in minutes (default {DEFAULT_MAX_MINUTES:g})",
    )
    parser.add_argument(
        "--live-idle-seconds",
        type=float,
        default=DEFAULT_LIVE_IDLE_S,
        help="close a live session that sends no frame for this long, freeing its slot "
        f"(default {DEFAULT_LIVE_IDLE_S:g})",
    )
    parser.add_argument(
        "--model",
        default="auto",
        choices=("lite", "full", "heavy", "auto"),
        help="BlazePose model for uploads and live sessions (default auto: each job's measured "
        "default, Full where the model it needs is not installed; see `formcheck models`)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="accept other computers (needed to bind a non-loopback address); every request then "
        "needs the access token, created on first start and kept in the data folder",
    )
    parser.add_argument(
        "--new-token",
        action="store_true",
        help="with --allow-remote: replace the access token (links given out before stop working)",
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


def prepare_data_dir(data_dir: Path) -> str | None:
    """Create and check the data folder; a readable problem, or None when it is usable."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        Store(data_dir).initialise()
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return (
            f"cannot use data folder {data_dir}: {reason}. Check that it is writable and the "
            "disk has free space, or choose another folder with --data-dir."
        )
    return None


def _address(host: str, port: int) -> str:
    """The URL to print; a wildcard address is shown as this computer's name."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "[::]") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def _fail(message: str) -> int:
    print(f"formcheck serve: {message}", file=sys.stderr)
    return 2


def run_serve(args: argparse.Namespace) -> int:
    """Check the options, then serve until interrupted."""
    import uvicorn

    from server.app import create_app
    from server.logredact import log_config

    if not is_loopback(args.host) and not args.allow_remote:
        return _fail(
            f"refusing to listen on {args.host}: other computers could reach your lifts. Add "
            "--allow-remote to accept them (every request then needs an access token)."
        )
    if not 0 < args.port < 65536:
        return _fail(f"port must be between 1 and 65535, not {args.port}.")
    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        return _fail("--workers must be at least 1.")
    if args.max_upload_mb <= 0:
        return _fail("--max-upload-mb must be positive.")
    if not args.max_minutes > 0:
        return _fail("--max-minutes must be positive.")
    if not args.live_idle_seconds > 0:
        return _fail("--live-idle-seconds must be positive.")
    if args.new_token and not args.allow_remote:
        return _fail("--new-token only makes sense with --allow-remote.")
    data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    problem = prepare_data_dir(data_dir)
    if problem:
        return _fail(problem)
    token = None
    if args.allow_remote:
        try:
            if args.new_token:
                (data_dir / TOKEN_FILE).unlink(missing_ok=True)
            token, created = load_or_create_token(data_dir)
        except OSError as exc:
            return _fail(f"cannot store the access token in {data_dir}: {exc.strerror or exc}.")
    if not _port_free(args.host, args.port):
        return _fail(
            f"port {args.port} on {args.host} is already in use; pick another with --port."
        )
    settings = Settings(
        data_dir=data_dir,
        workers=workers,
        max_upload_bytes=int(args.max_upload_mb * MB),
        max_duration_s=float(args.max_minutes) * 60,
        allow_remote=bool(args.allow_remote),
        access_token=token,
        live_idle_s=float(args.live_idle_seconds),
        model=args.model,
    )
    address = _address(args.host, args.port)
    print(f"formcheck: data in {data_dir}; Ctrl-C stops.")
    if token is None:
        print(f"formcheck: open {address}/")
    elif created:
        print(f"formcheck: open {address}/?token={token}")
        print(
            "formcheck: that link holds the access token; it is shown only now (kept in "
            f"{data_dir / TOKEN_FILE}). Give it only to people who may see these lifts."
        )
    else:
        print(
            f"formcheck: open {address}/?token=<token> with the token from "
            f"{data_dir / TOKEN_FILE} (or start with --new-token to make a new one)."
        )
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings),
        host=args.host.strip("[]"),
        port=args.port,
        log_level="info",
        log_config=log_config(token),
        timeout_graceful_shutdown=3,
    )
    return 0
