"""Process-wide settings for the commands that only validate and build."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.abc import MetaPathFinder


class _NoPandas(MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not needed by this command")
        return None


def skip_pandas_probe() -> None:
    """Tell pyarrow, once, that pandas is not there, without importing it.

    pyarrow imports pandas on its first conversion of any Python value (a list, a scalar,
    `to_numpy`), only to ask whether the value is a pandas object: a quarter of a second of
    every `validate` and `build`, which never use pandas. pyarrow remembers the answer for
    those questions, and still imports pandas when it is really asked for it (`to_pandas`).
    """
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        pa.scalar(0)  # the first conversion: pyarrow tries pandas now, and is refused
    finally:
        sys.meta_path.remove(blocker)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off for one validate or build, on again after (tests run many in one process).

    These commands make millions of short-lived objects and few cycles: the collector would walk every
    object the imports made, again and again, to free next to nothing that reference counting does not.
    """
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
