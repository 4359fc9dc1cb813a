"""The console script: say plainly what to install when the tools extra is missing; leave quickly."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import NoReturn

# The commands do no linear algebra, but numpy's OpenBLAS starts a worker thread per core on import,
# and each spins a while before it sleeps: CPU time taken from the commands' own threads.
QUIET_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}
# mallopt's options (glibc's malloc.h): see keep_freed_memory.
GLIBC_MALLOC = {
    -3: 32 << 20,  # M_MMAP_THRESHOLD: allocations under 32 MB (its most) come from the heap, not mappings
    -1: 1 << 30,  # M_TRIM_THRESHOLD: the heap's free top is not given back under 1 GB
}


def prepare_environment(environ: MutableMapping[str, str]) -> None:
    """Settings for the libraries the commands load; a value the user has set stays."""
    for name, value in QUIET_ENVIRONMENT.items():
        environ.setdefault(name, value)


def exit_code(code: object) -> int:
    """The status `sys.exit(code)` gives: None is 0, an integer itself, anything else 1 (it is printed)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def leave(code: int) -> NoReturn:
    """Exit at once, output flushed, without the interpreter's teardown.

    After a large validate or build the interpreter would free hundreds of MB of tables object by
    object (0.1 s at a million rows) only for the process to end; the system takes it all back at
    once. Every file the commands write is closed before they return.
    """
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or stdout was closed: nothing to save
        code = code or 1
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        code = code or 1
    os._exit(code)


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep the memory it frees, for the next allocation, instead of giving it back.

    By default every array over a few MB is a fresh mapping, given back when it is freed, and the next one
    is a fresh mapping again: the system zeroes every page of it anew. A validate at a million rows makes
    hundreds of such arrays (numpy's, in two threads), and on a virtual machine zeroing fresh pages is
    dear: kept and reused, at a million rows the system time fell from 0.42 s to 0.27 s (the median of 20
    alternating runs of each), and the wall time by 6%. Nothing else
    changes: only where freed memory waits; the process gives it all back when it ends. True when glibc
    took every option.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if sys.platform == "linux" else None
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): its own ways stay
        return False
    return all([mallopt(option, value) == 1 for option, value in GLIBC_MALLOC.items()])  # 1: taken


def main() -> None:
    prepare_environment(os.environ)
    keep_freed_memory()
    try:
        from .cli import main as cli_main
    except ImportError as exc:  # click (or another tool dependency) is not installed
        print(
            f"eurasec: the command-line tools need {exc.name or 'more packages'}: pip install 'eurasec[tools]'",
            file=sys.stderr,
        )
        sys.exit(2)
    try:
        cli_main()
    except SystemExit as stop:  # click ends every command this way, its own errors included
        leave(exit_code(stop.code))
    except Exception as exc:  # past the command group's own net (cli.internal_error): still no traceback
        leave(last_resort(exc, debug="--debug" in sys.argv[1:]))
    leave(0)


def last_resort(exc: Exception, *, debug: bool) -> int:
    """Say that eurasec failed, as every command does (cli.internal_error), and give its exit status."""
    from .cli import internal_error

    try:
        internal_error(exc, debug=debug, what="eurasec", how="as eurasec --debug COMMAND …")
    except SystemExit as stop:
        return exit_code(stop.code)
    return 2  # pragma: no cover  (internal_error always exits)
