"""The console script: say plainly what to install when the tools extra is missing."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as cli_main
    except ImportError as exc:  # click (or another tool dependency) is not installed
        print(
            f"eurasec: the command-line tools need {exc.name or 'more packages'}: pip install 'eurasec[tools]'",
            file=sys.stderr,
        )
        sys.exit(2)
    cli_main()
