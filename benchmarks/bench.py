"""Benchmark `eurasec validate`, `build` and `diff` on synthetic packages, against frictionless and a pyarrow floor.

For each size, a valid synthetic package (tests.synth.generate) is written to a temporary
folder, then each command runs in a fresh subprocess, as a user would run it (interpreter start
and imports included), with its wall time and peak memory (the child's own rusage, via wait4):

- ours:          <bin>/eurasec validate <pkg>/datapackage.json --format json   (exit 0 expected)
- build:         <bin>/eurasec build <pkg>/datapackage.json --out <tmp>   (its progress says each step's time)
- diff:          <bin>/eurasec diff <pkg> <copy> --format json, where the copy has CHANGED_CELLS cells
                 changed (change_cells); its JSON must report exactly those rows as changed
- frictionless:  <bin>/frictionless validate <pkg>/datapackage.json --json
- pyarrow:       a Python process that only reads every table's CSV with pyarrow.csv.read_csv,
                 all columns as strings; it reports the reads alone (import excluded), and its
                 wall time is the floor for any command that reads the tables.

The real dataset (datapackage.json at the repository root) is validated too. Missed targets
and failing commands are reported, never fatal: the script always writes its table.

    /work/venv/bin/python benchmarks/bench.py --sizes 10000 100000 1000000 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_DESCRIPTOR = ROOT / "datapackage.json"
CHANGED_CELLS = 100  # cells changed in the copy that `eurasec diff` compares with the package

# Run in a subprocess: reads every resource of a descriptor with pyarrow, all columns as strings.
PYARROW_FLOOR = r"""
import json, sys, time
start = time.perf_counter()
import pyarrow as pa
import pyarrow.csv as pacsv
imported = time.perf_counter()
descriptor = sys.argv[1]
root = descriptor.rsplit("/", 1)[0] if "/" in descriptor else "."
with open(descriptor, encoding="utf-8") as f:
    resources = json.load(f)["resources"]
rows = 0
for resource in resources:
    names = [field["name"] for field in resource["schema"]["fields"]]
    table = pacsv.read_csv(
        f"{root}/{resource['path']}",
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names}, strings_can_be_null=False
        ),
    )
    rows += table.num_rows
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "read_s": done - imported, "rows": rows}))
"""


def compile_package(python: str) -> str:
    """Compile the eurasec that `python` imports to bytecode (python -m compileall), as pip does for an
    installed wheel; what the table's How says of it."""
    where = subprocess.run(
        [python, "-c", "import eurasec, os; print(os.path.dirname(eurasec.__file__))"],
        capture_output=True,
        text=True,
    )
    if where.returncode != 0:
        return "not done: eurasec could not be imported"
    folder = where.stdout.strip()
    done = subprocess.run([python, "-m", "compileall", "-q", folder], capture_output=True, text=True)
    shown = os.path.relpath(folder, ROOT) if folder.startswith(str(ROOT) + os.sep) else folder
    if done.returncode != 0:
        return f"`python -m compileall {shown}` failed: {(done.stderr or done.stdout).strip()[:200]}"
    return f"`python -m compileall {shown}`"


@dataclass
class Run:
    seconds: float
    peak_mb: float
    exit_code: int
    stdout: str = ""
    stderr: str = ""


@dataclass
class Measure:
    """Repeated runs of one command: the median time, the largest peak memory, the worst exit code."""

    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.runs), key=abs)

    @property
    def last(self) -> Run:
        return self.runs[-1]


def run(command: list[str], timeout: float | None, cwd: Path | None = None) -> Run:
    """Run a command in a fresh process; its wall time and its own peak RSS (wait4 rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
        timer = threading.Timer(timeout, process.kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        timed_out = timeout is not None and seconds >= timeout
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in KiB on Linux, in bytes on macOS.
        peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        return Run(
            seconds=seconds,
            peak_mb=peak,
            exit_code=-9 if timed_out else process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


WARMUP = 1  # untimed runs of every command before its timed ones (--warmup)


def measure(command: list[str] | Callable[[int], list[str]], repeat: int, timeout: float | None, name: str) -> Measure:
    """The command's timed runs, after WARMUP untimed ones: the first run after a package is written (or after
    a memory-hungry command) pays for the system settling, which is no property of the command. A command
    given as a function of the run's number (warm-ups first, numbered from 0) can vary by run."""
    m = Measure()
    for i in range(WARMUP + repeat):
        r = run(command(i) if callable(command) else command, timeout)
        if i < WARMUP:
            print(f"  {name:<14} warm-up {i + 1}: {r.seconds:8.2f} s (not counted)", file=sys.stderr)
            continue
        m.runs.append(r)
        note = "" if r.exit_code == 0 else f"  (exit {r.exit_code}: {(r.stderr or r.stdout).strip()[-300:]!r})"
        print(
            f"  {name:<14} run {i - WARMUP + 1}/{repeat}: {r.seconds:8.2f} s {r.peak_mb:8.0f} MB{note}", file=sys.stderr
        )
    return m


def validate_summary(m: Measure) -> str:
    """What our validate said, from its JSON report: the exit code, and errors/warnings when not clean."""
    try:
        report = json.loads(m.last.stdout)
    except ValueError:
        return f"exit {m.exit_code}, no JSON report"
    if m.exit_code == 0 and not report.get("errors") and not report.get("warnings"):
        return "valid, no findings"
    codes = sorted({f["code"] for f in report.get("findings", [])})
    return (
        f"exit {m.exit_code}: {report.get('errors')} errors, {report.get('warnings')} warnings ({', '.join(codes[:5])})"
    )


def real_rows(m: Measure) -> str:
    try:
        return f"{sum(json.loads(m.last.stdout)['tables'].values()):,}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return "?"


def pyarrow_reads(m: Measure) -> tuple[float | None, float | None]:
    """Median (read seconds, import seconds) that the floor process reported about itself."""
    reads, imports = [], []
    for r in m.runs:
        try:
            d = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            continue
        reads.append(d["read_s"])
        imports.append(d["import_s"])
    if not reads:
        return None, None
    return statistics.median(reads), statistics.median(imports)


def label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def seconds(value: float | None, exit_code: int = 0) -> str:
    if value is None:
        return "–"
    text = f"{value:.2f}"
    return text if exit_code == 0 else f"{text} (exit {exit_code})"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.1f}×"


def git_state() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _targets(
    size: str, ours: Measure, fl: Measure | None, floor: Measure, build: Measure | None, diff: Measure | None
) -> list[str]:
    """The issue's targets at the largest size, each with the figure measured in this run."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    out = []
    if fl is not None:
        speedup = fl.seconds / ours.seconds
        out.append(
            f"- validate at least 20× faster than frictionless at {size}: {speedup:.1f}× ({verdict(speedup >= 20)})"
        )
    over_floor = ours.seconds / floor.seconds
    out.append(f"- validate within 5× of the pyarrow read at {size}: {over_floor:.1f}× ({verdict(over_floor <= 5)})")
    if build is not None:
        out.append(f"- build under 5 s at {size}: {build.seconds:.2f} s ({verdict(build.seconds < 5)})")
    if diff is not None:
        over_validate = diff.seconds / ours.seconds
        out.append(
            f"- diff ({CHANGED_CELLS} changed cells) within 2× validate at {size}: {diff.seconds:.2f} s,"
            f" {over_validate:.1f}× ({verdict(over_validate <= 2)})"
        )
    peaks = [m.peak_mb for m in (ours, build, diff) if m is not None]
    out.append(
        f"- peak memory under 1 GB: validate {ours.peak_mb:.0f} MB"
        + (f", build {build.peak_mb:.0f} MB" if build else "")
        + (f", diff {diff.peak_mb:.0f} MB" if diff else "")
        + f" ({verdict(max(peaks) < 1024)})"
    )
    return out


STEP = re.compile(r"^build: (validated|typed the tables|wrote .+?) in ([0-9.]+) s$", re.M)
BUILT = re.compile(r"^built .*?: .*?([0-9.]+) (KiB|MiB|GiB)$", re.M)


def build_steps(build: Measure, size: str) -> list[str]:
    """Where a build's time goes, from the progress each run printed: the median of every step's seconds."""
    seen: dict[str, list[float]] = {}
    for r in build.runs:
        for step, value in STEP.findall(r.stderr):
            seen.setdefault(step.removeprefix("wrote "), []).append(float(value))
    if not seen:
        return []
    sizes = [
        float(m[1]) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[m[2]]
        for r in build.runs
        if (m := BUILT.search(r.stdout))
    ]
    lines = [
        f"## Where the build's time goes at {size}",
        "",
        "From the progress of the build runs above (the median of each step). The exporters run two at a time,"
        " so their times add up to more than *every file*; each includes hashing the files it wrote.",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {step} | {statistics.median(values):.2f} |" for step, values in seen.items()),
        "",
    ]
    if sizes:
        lines[-1:-1] = ["", f"The release is {statistics.median(sizes):,.0f} MiB."]
    return lines


def change_cells(package: Path, count: int, seed: int = 0) -> dict[str, set[int]]:
    """Change `count` distinct cells of a package in place, outside its primary keys; the rows changed, per table.

    Cells are drawn uniformly over every row of every table (so the large tables get most of them),
    each in a field that is not part of the table's primary key, and get " (edited)" appended: the
    row stays where it is, under the same key, and exactly that field differs.
    """
    import csv

    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    rng = random.Random(seed)
    targets: list[tuple[str, list[str]]] = []  # one entry per row: (path, the fields it may change)
    rows_of: dict[str, int] = {}
    for resource in descriptor["resources"]:
        key = set(resource["schema"].get("primaryKey") or [])
        editable = [f["name"] for f in resource["schema"]["fields"] if f["name"] not in key]
        with open(package / resource["path"], encoding="utf-8", newline="") as f:
            rows_of[resource["path"]] = sum(1 for _ in csv.reader(f)) - 1
        if editable:
            targets.append((resource["path"], editable))
    cells: set[tuple[str, int, str]] = set()
    population = [(path, rows_of[path], fields) for path, fields in targets if rows_of[path] > 0]
    weights = [rows for _, rows, _ in population]
    while len(cells) < min(count, sum(rows * len(fields) for _, rows, fields in population)):
        path, rows, fields = rng.choices(population, weights)[0]
        cells.add((path, rng.randrange(rows), rng.choice(fields)))
    changed: dict[str, set[int]] = {}
    for path in sorted({c[0] for c in cells}):
        with open(package / path, encoding="utf-8", newline="") as f:
            header, *records = list(csv.reader(f))
        for _, row, name in (c for c in cells if c[0] == path):
            records[row][header.index(name)] += " (edited)"
            changed.setdefault(path, set()).add(row)
        with open(package / path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *records])
    return changed


def diff_summary(m: Measure, changed_rows: int) -> str | None:
    """None when the diff reported exactly the changed rows (and nothing added or removed), else what it said."""
    try:
        report = json.loads(m.last.stdout)
        counts = [t["counts"] for t in report["tables"]]
    except (ValueError, KeyError, TypeError):
        return f"exit {m.exit_code}, no JSON report"
    found = {part: sum(c[part] for c in counts) for part in ("added", "removed", "changed")}
    if m.exit_code == 0 and found == {"added": 0, "removed": 0, "changed": changed_rows}:
        return None
    return f"exit {m.exit_code}: {found} rows, {changed_rows} changed expected"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="rows in total")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the median time is reported")
    parser.add_argument("--out", type=Path, help="write the results as markdown to this file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic packages")
    parser.add_argument(
        "--bin",
        type=Path,
        default=Path(sys.executable).parent,
        help="folder with python, eurasec and frictionless (default: this interpreter's)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a command is killed")
    parser.add_argument("--no-frictionless", action="store_true", help="skip the frictionless runs")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of every command before its timed ones")
    parser.add_argument("--no-build", action="store_true", help="skip the build runs")
    parser.add_argument("--no-diff", action="store_true", help="skip the diff runs")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be at least 0")
    global WARMUP
    WARMUP = args.warmup

    sys.path.insert(0, str(ROOT / "tools"))  # run from a checkout even when eurasec is not installed
    sys.path.insert(0, str(ROOT))  # tests.synth: the synthetic packages live with the tests, not in the wheel
    from tests.synth import generate

    bindir: Path = args.bin
    python = str(bindir / "python")
    eurasec = str(bindir / "eurasec")
    frictionless = str(bindir / "frictionless")
    command_line = "python benchmarks/bench.py " + shlex.join(
        a if not a.startswith(str(ROOT) + os.sep) else os.path.relpath(a, ROOT) for a in (argv or sys.argv[1:])
    )

    compiled = compile_package(python)
    rows_md: list[str] = []
    notes: list[str] = []
    steps: list[str] = []
    ours_by_size: dict[int, float] = {}
    rows_by_size: dict[int, int] = {}
    targets: list[str] = []

    with tempfile.TemporaryDirectory(prefix="eurasec-bench-") as tmp:
        tmp_path = Path(tmp)

        print(f"real dataset: {REAL_DESCRIPTOR}", file=sys.stderr)
        real = measure(
            [eurasec, "validate", str(REAL_DESCRIPTOR), "--format", "json"], args.repeat, args.timeout, "ours"
        )
        real_fl = (
            None
            if args.no_frictionless
            else measure(
                [frictionless, "validate", str(REAL_DESCRIPTOR), "--json"], args.repeat, args.timeout, "frictionless"
            )
        )

        for size in args.sizes:
            pkg = tmp_path / f"pkg-{size}"
            print(f"size {label(size)}: generating {pkg}", file=sys.stderr)
            start = time.perf_counter()
            counts = generate(pkg, size, seed=args.seed)
            generated = time.perf_counter() - start
            # The files are written back to disk now, not during the first measured run (whichever tool
            # ran first would pay for the kernel's writeback of a few hundred MB).
            os.sync()
            total = sum(counts.values())
            megabytes = sum(p.stat().st_size for p in pkg.rglob("*") if p.is_file()) / 1e6
            print(f"  generated {total:,} rows, {megabytes:.0f} MB in {generated:.1f} s", file=sys.stderr)
            descriptor = str(pkg / "datapackage.json")

            ours = measure([eurasec, "validate", descriptor, "--format", "json"], args.repeat, args.timeout, "ours")
            fl = (
                None
                if args.no_frictionless
                else measure(
                    [frictionless, "validate", descriptor, "--json"], args.repeat, args.timeout, "frictionless"
                )
            )
            floor = measure([python, "-c", PYARROW_FLOOR, descriptor], args.repeat, args.timeout, "pyarrow")
            build = None
            if not args.no_build:

                def build_into(i: int, size: int = size, descriptor: str = descriptor) -> list[str]:
                    """A fresh --out for every run: a build into an existing release would swap it, other work.
                    Not --quiet: the progress on stderr says how long each step took (build_steps)."""
                    shutil.rmtree(tmp_path / f"build-{size}-{i - 1}", ignore_errors=True)
                    return [eurasec, "build", descriptor, "--out", str(tmp_path / f"build-{size}-{i}")]

                build = measure(build_into, args.repeat, args.timeout, "build")
                shutil.rmtree(tmp_path / f"build-{size}-{WARMUP + args.repeat - 1}", ignore_errors=True)
            diff = None
            if not args.no_diff:
                changed_pkg = tmp_path / f"pkg-{size}-changed"
                shutil.copytree(pkg, changed_pkg)
                changed = change_cells(changed_pkg, CHANGED_CELLS, seed=args.seed)
                os.sync()
                diff = measure(
                    [eurasec, "diff", str(pkg), str(changed_pkg), "--format", "json"], args.repeat, args.timeout, "diff"
                )
                said = diff_summary(diff, sum(len(rows) for rows in changed.values()))
                if said:
                    notes.append(f"At {label(size)} our diff did not report the changed rows alone: {said}.")
                shutil.rmtree(changed_pkg, ignore_errors=True)
            read_s, import_s = pyarrow_reads(floor)
            ours_by_size[size] = ours.seconds
            rows_by_size[size] = total
            if size == max(args.sizes) >= 1_000_000:  # the issue states its targets at a million rows
                targets.extend(_targets(label(size), ours, fl, floor, build, diff))
            if size == max(args.sizes) and build is not None:
                steps = build_steps(build, label(size))
            summary = validate_summary(ours)
            if summary != "valid, no findings":
                notes.append(f"At {label(size)} our validate did not come back clean: {summary}.")
            if fl is not None and fl.exit_code != 0:
                notes.append(f"At {label(size)} frictionless exited {fl.exit_code}.")
            rows_md.append(
                "| "
                + " | ".join(
                    [
                        label(size),
                        f"{total:,}",
                        f"{megabytes:.0f}",
                        seconds(generated),
                        seconds(ours.seconds, ours.exit_code),
                        seconds(fl.seconds, fl.exit_code) if fl else "–",
                        ratio(fl.seconds, ours.seconds) if fl else "–",
                        f"{seconds(read_s)} / {seconds(read_s + import_s if read_s is not None else None)}"
                        f" / {seconds(floor.seconds, floor.exit_code)}",
                        ratio(ours.seconds, floor.seconds),
                        seconds(build.seconds, build.exit_code) if build else "–",
                        seconds(diff.seconds, diff.exit_code) if diff else "–",
                        ratio(diff.seconds, ours.seconds) if diff else "–",
                        " / ".join(f"{m.peak_mb:.0f}" if m else "–" for m in (ours, fl, floor, build, diff)),
                    ]
                )
                + " |"
            )
            shutil.rmtree(pkg, ignore_errors=True)

    scaling = []
    ordered = sorted(ours_by_size)
    for small, big in itertools.pairwise(ordered):
        scaling.append(
            f"- our validate, {label(big)} / {label(small)}: {ours_by_size[big] / ours_by_size[small]:.1f}× the time"
            f" for {big / small:.0f}× the rows; each added row costs"
            f" {1e6 * (ours_by_size[big] - ours_by_size[small]) / (rows_by_size[big] - rows_by_size[small]):.2f} µs"
        )
    if len(ordered) >= 2:
        scaling.append(
            "- A process's fixed cost (interpreter, imports, frictionless' check of the descriptor) is most of the"
            " time at small sizes, so the raw ratio stays under 10; the cost of an added row, the slope, is what"
            " shows whether the work is linear."
        )

    header = (
        "| size | rows | MB | generate s | our validate s | frictionless s | frictionless / ours"
        " | pyarrow s (reads / with import / whole process) | ours / pyarrow | our build s | our diff s"
        " | diff / validate | peak MB (validate / frictionless / pyarrow / build / diff) |"
    )
    separator = "|" + "---|" * header.count(" | ") + "---|"
    real_line = (
        f"The real dataset (`datapackage.json`, {real_rows(real)} rows):"
        f" our validate {seconds(real.seconds, real.exit_code)} s"
        f" ({validate_summary(real)}), peak {real.peak_mb:.0f} MB"
        + (f"; frictionless {seconds(real_fl.seconds, real_fl.exit_code)} s." if real_fl else ".")
    )
    md = "\n".join(
        [
            "# Benchmarks",
            "",
            "<!-- Written by benchmarks/bench.py: rerun it rather than edit by hand. -->",
            "",
            "How long `eurasec validate`, `build` and `diff` take on synthetic packages of growing size, against",
            "`frictionless validate` and the floor of merely reading the CSV files with pyarrow. Every command runs",
            "in a fresh process, as a user runs it (interpreter start and imports included); times are wall",
            f"seconds, the median of {args.repeat} run{'s' if args.repeat > 1 else ''} after {args.warmup} untimed"
            f" warm-up run{'s' if args.warmup != 1 else ''} of every command (ours and frictionless alike), and"
            " memory is the process's peak resident set.",
            "",
            "```sh",
            command_line,
            "```",
            "",
            header,
            separator,
            *rows_md,
            "",
            *scaling,
            "",
            *(["## Targets (issue 7)", "", *targets, ""] if targets else []),
            *steps,
            real_line,
            "",
            *(f"- {note}" for note in notes),
            *([""] if notes else []),
            "## How",
            "",
            "- **Packages**: `tests.synth.generate(folder, rows, seed)` writes the repository's descriptor, its"
            f" {len(json.loads(REAL_DESCRIPTOR.read_text(encoding='utf-8'))['resources'])}",
            "  tables and one seed per 10,000 rows (at most 100): the real seed followed by an appendix of unique",
            "  tokens, with every citation's offsets pointing at its quote, and one document in ten registered",
            "  without text. The package is valid with no finding at all, canonical and deterministic.",
            "- **our validate**: `eurasec validate <pkg>/datapackage.json --format json` (every check, frictionless's",
            "  included); **our build**: `eurasec build <pkg>/datapackage.json --out <tmp>` (its progress on stderr",
            "  gives each step's time).",
            f"- **our diff**: `eurasec diff <pkg> <copy> --format json`, the copy with {CHANGED_CELLS} cells changed",
            "  (outside primary keys, drawn over all rows): what a data pull request's check runs. *diff / validate*",
            "  compares the two whole processes.",
            "- **frictionless**: `frictionless validate <pkg>/datapackage.json --json`.",
            "- **pyarrow**: a process that reads every table with `pyarrow.csv.read_csv`, all columns as strings",
            "  (`newlines_in_values=True`, as quotes may span lines). *reads* is the reading alone, measured",
            "  inside the process; *with import* adds `import pyarrow`; *whole process* is the process's wall time,",
            "  interpreter start included.",
            "  *ours / pyarrow* compares the two whole processes.",
            "- **peak MB**: `ru_maxrss` of the finished child (`os.wait4`).",
            "- Each package is synced to disk (`os.sync()`) after it is generated and before anything is timed.",
            "- Every command runs untimed first (`--warmup`, as hyperfine's): on this virtual machine the first run",
            "  after a package is written, or after a memory-hungry command, pays for the system settling (fresh",
            "  memory pages cost the most there), and that is no property of the command timed.",
            f"- eurasec's modules are compiled to bytecode before anything is timed ({compiled}), as pip compiles an",
            "  installed wheel's and as frictionless' were when it was installed: an editable install where",
            "  `PYTHONDONTWRITEBYTECODE` is set (as on this machine) would compile them again in every run.",
            "",
            f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
            f" eurasec at `{git_state()}`; {dt.date.today().isoformat()}.",
            "",
        ]
    )
    print(md)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
