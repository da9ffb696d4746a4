"""`python -m server`: the same as `formcheck serve`."""

from __future__ import annotations

import argparse
import sys

from formcheck.cli import add_verbose_option
from formcheck.native_logs import silence_native_logs
from server.cli import add_serve_parser, run_serve


def main(argv: list[str] | None = None) -> int:
    """Parse `serve` options and run the server."""
    parser = argparse.ArgumentParser(prog="python -m server")
    sub = parser.add_subparsers(dest="command")
    add_verbose_option(add_serve_parser(sub))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    if not args.verbose:
        silence_native_logs()
    return run_serve(args)


if __name__ == "__main__":
    sys.exit(main())
