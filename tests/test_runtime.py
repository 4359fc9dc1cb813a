"""`validate` and `build` never import pandas (pandas works afterwards) and pause the cycle collector as they run."""

from __future__ import annotations

import subprocess
import sys

from .conftest import DESCRIPTOR


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_validate_on_the_command_line_does_not_import_pandas():
    code = f"""
import sys
from eurasec.cli import cli
try:
    cli(["validate", {str(DESCRIPTOR)!r}, "--format", "json"], standalone_mode=False)
finally:
    print("pandas" in sys.modules)
"""
    assert run_python(code).splitlines()[-1] == "False"


def test_without_the_probe_pyarrow_imports_pandas_on_its_first_conversion():
    # The reason for skip_pandas_probe: if pyarrow stops doing this, the probe can go.
    assert run_python("import sys, pyarrow as pa; pa.scalar(0); print('pandas' in sys.modules)") == "True"


def test_to_pandas_still_works_after_the_probe_is_skipped():
    code = """
import sys, pyarrow as pa
from eurasec.runtime import skip_pandas_probe
skip_pandas_probe()
assert "pandas" not in sys.modules
frame = pa.table({"x": [1, 2]}).to_pandas()
print(type(frame).__name__, frame["x"].sum())
"""
    assert run_python(code) == "DataFrame 3"


def test_the_cycle_collector_is_paused_for_a_command_and_back_after_it_even_when_it_fails():
    import gc

    from eurasec.runtime import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with collector_paused():
            raise RuntimeError("the command failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before, off after: a caller's choice stands
    finally:
        gc.enable()
