"""One side of a diff: a folder with a `datapackage.json` or a git revision, and its tables as Arrow text columns.

A side's files are read by the rules validate reads them by: the descriptor within the bounds of
descriptor.parse_json (size, nesting, numbers), a resource only at a plain relative path inside the
side (no '..', not absolute, no URL, no symlink on the way), a file only if it is regular and not
over MAX_FILE_BYTES. Anything else is a DiffError (exit 2); nothing outside the side is read, and
nothing is fetched.

load_side reads the descriptor and checks every table's file (a folder's is hashed, a revision's
is listed with its blob and size); a table's rows are read when the diff asks for them
(Table.load), and let go once it is compared, so that one table of each side is in memory at a
time. A file that cannot be parsed is a DiffError then, naming the side and the file as before.

Every value is normalized to text (`_text`), so a release (typed Parquet) and the CSVs it was built
from compare equal. A CSV file is read by the project's fast reader (eurasec.read.table), or, when that
cannot be sure of it, by Python's strict csv module; a Parquet file by pyarrow.

Two tables with the same signature (the same bytes, by git blob or SHA-256, read with the same
fields and key) share their columns: the diff knows at once that their rows did not change.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import mmap
import os
import re
import stat
import subprocess
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...model.descriptor import (
    DESCRIPTOR_NAME,
    MAX_DESCRIPTOR_BYTES,
    DescriptorError,
    parse_json,
    parse_resource,
)
from ...model.paths import UnsafePathError, read_regular, resolve_inside, unsafe_relative_reason
from ...read.strict import parse

if TYPE_CHECKING:
    import pyarrow as pa

Key = tuple[str, ...]

TRUE_VALUES = ("true", "True", "TRUE", "1")  # frictionless' defaults, as the build reads them
FALSE_VALUES = ("false", "False", "FALSE", "0")
MAX_FILE_BYTES = 1 << 30  # one table file of a side
# ASCII digits only, and few enough for int() (which refuses more than 4,300): a longer number is text.
_INTEGER = re.compile(r"[+-]?[0-9]{1,1000}")
# Texts that _text leaves as they are, told apart by Arrow without a Python call per value (RE2: '$' is the end).
_SAME_AS_INTEGER = r"^(?:0|-?[1-9][0-9]*)?$"
_SAME_AS_NUMBER = r"^(?:0|-?[1-9][0-9]{0,14})?$"  # 15 digits: exact as a float, under 2**53
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class DiffError(Exception):
    """A side cannot be read: not a package folder nor a revision, or a table is missing or unreadable."""


@dataclass(eq=False)
class TableData:
    """A table's rows as read, in the file's order: each field's normalized text, an Arrow string array of num_rows."""

    num_rows: int
    columns: dict[str, pa.Array]  # field name -> text, in schema order

    def column(self, name: str) -> pa.Array:
        """A field's column; all "" for a field the table has not (a key may name one)."""
        if name in self.columns:
            return self.columns[name]
        import pyarrow as pa

        return pa.nulls(self.num_rows, pa.string()).fill_null("")


@dataclass(frozen=True)
class Source:
    """A table's file, found and checked but not kept in memory: what its content is, and how to read it."""

    file: str  # the resource's path
    digest: str  # "git:<blob>" or "sha256:<hex>": equal digests, equal bytes
    size: int
    parquet: bool
    read: Callable[[], bytes | mmap.mmap] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Table:
    """One table of a side: its schema, and where its rows are; `load()` reads them, every value as text."""

    name: str
    fields: dict[str, str]  # field name -> type, in schema order
    constraints: dict[str, dict[str, Any]]  # field name -> constraints
    primary_key: tuple[str, ...]
    source: Source = field(repr=False)
    label: str = ""  # the side's, for messages
    position: int = 0  # in the side's descriptor
    _seen: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def own_key(self) -> tuple[str, ...]:
        """What the rows are keyed on: the primary key, or every field when there is none."""
        return self.primary_key or tuple(self.fields)

    @property
    def signature(self) -> tuple[Any, ...]:
        """Equal for two tables whose rows and repeated keys are the same: the same bytes, fields and key."""
        return (self.source.digest, self.source.parquet, tuple(self.fields.items()), self.own_key)

    def load(self) -> TableData:
        """The rows, read now (or shared with a table of the same signature that is in memory); DiffError if unreadable.

        Nothing keeps them but the caller: a diff reads a table, compares it and lets it go.
        """
        with _READ_LOCK:
            data = _READ.get(self.signature)
        if data is None:
            try:
                data = _read_data(self.source, self.fields)
            except DiffError as exc:
                raise DiffError(f"{self.label}: {self.source.file}: {exc}") from None
            with _READ_LOCK:
                data = _READ.setdefault(self.signature, data)
        return data

    @property
    def duplicates(self) -> tuple[Key, ...]:
        """Keys that more than one row has (the last row is compared); the table is read to know, once."""
        if "duplicates" not in self._seen:
            from .keys import duplicates

            self.note_duplicates(duplicates(self.load(), self.own_key))
        found: tuple[Key, ...] = self._seen["duplicates"]
        return found

    def note_duplicates(self, keys: tuple[Key, ...]) -> None:
        """Keep what a diff found out: the keys that more than one row has."""
        self._seen["duplicates"] = keys


@dataclass(frozen=True)
class Side:
    spec: str  # as the user gave it
    label: str  # how reports name it: the folder, or the revision with its short hash
    descriptor: dict[str, Any] = field(repr=False)
    version: str
    tables: dict[str, Table]  # in the descriptor's order


# --- finding a side's files -------------------------------------------------------------


Finder = Callable[[str, bool], Source]  # (path, parquet) -> the checked file


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed, so a revision cannot be read") from None


def _map_regular(path: Path, max_bytes: int) -> bytes | mmap.mmap:
    """A regular file's bytes, mapped from the page cache; OSError for anything else or over max_bytes.

    Opened without blocking, then checked, as descriptor.read_regular does: a FIFO or a device is
    refused before a byte is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            mode = status.st_mode
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
            raise OSError(f"{path} is {kind}")
        if status.st_size > max_bytes:
            raise OSError(f"{path} is larger than {max_bytes:,} bytes")
        if status.st_size == 0:
            return b""
        try:
            return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            pass
    finally:
        os.close(fd)
    return read_regular(path, max_bytes)


def _folder_finder(folder: Path) -> tuple[Callable[[], bytes], Finder]:
    def failing(path: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except UnsafePathError as exc:
            raise DiffError(f"{folder}: the path {exc}; nothing outside the package is read") from None
        except FileNotFoundError:
            raise DiffError(f"{folder}: {path} does not exist") from None
        except OSError as exc:
            raise DiffError(f"{folder}: {path} cannot be read ({exc.strerror or exc})") from None

    def descriptor() -> bytes:
        data: bytes = failing(DESCRIPTOR_NAME, lambda: read_regular(folder / DESCRIPTOR_NAME, MAX_DESCRIPTOR_BYTES))
        return data

    def mapped(path: str) -> bytes | mmap.mmap:
        data: bytes | mmap.mmap = failing(
            path, lambda: _map_regular(resolve_inside(folder, path, allow_symlinks=False), MAX_FILE_BYTES)
        )
        return data

    def find(path: str, parquet: bool) -> Source:
        data = mapped(path)
        digest = hashlib.sha256(data).hexdigest()

        def read() -> bytes | mmap.mmap:
            again = mapped(path)  # the same checks again: the path is read anew
            if hashlib.sha256(again).hexdigest() != digest:
                raise DiffError(f"{folder}: {path} changed while the diff was running")
            return again

        return Source(path, f"sha256:{digest}", len(data), parquet, read)

    return descriptor, find


def _revision_finder(repo: Path, sha: str, label: str) -> tuple[Callable[[], bytes], Finder]:
    def listed(path: str, limit: int) -> tuple[str, int]:
        """The blob at path, after checking it is a plain file no larger than limit."""
        reason = unsafe_relative_reason(path)
        if reason:  # git would not leave the repository, but a path from a revision obeys the same rules
            raise DiffError(f"{label}: the path {path!r} {reason}; nothing outside the package is read")
        # "./" makes the path relative to `repo`, which may be a subfolder of the work tree.
        # mode, type, object, size: a symlink (mode 120000) or a folder is not a file, and a size is checked first
        entry = _git(repo, "ls-tree", "-l", "-z", sha, "--", f"./{path}").stdout.split(b"\0")[0].split()
        if len(entry) < 4:
            raise DiffError(f"{label}: {path} is not in that revision")
        if entry[0] not in (b"100644", b"100755") or entry[1] != b"blob":
            raise DiffError(f"{label}: {path} is not a plain file in that revision (a symlink or a folder)")
        if not entry[3].isdigit() or int(entry[3]) > limit:
            raise DiffError(f"{label}: {path} is larger than {limit:,} bytes")
        oid = entry[2].decode("ascii", "replace")
        if not _OID.fullmatch(oid):
            raise DiffError(f"{label}: {path} is not in that revision")
        return oid, int(entry[3])

    def blob(path: str, oid: str) -> bytes:
        done = _git(repo, "cat-file", "blob", oid)
        if done.returncode != 0:
            raise DiffError(f"{label}: {path} is not in that revision")
        return done.stdout

    def descriptor() -> bytes:
        return blob(DESCRIPTOR_NAME, listed(DESCRIPTOR_NAME, MAX_DESCRIPTOR_BYTES)[0])

    def find(path: str, parquet: bool) -> Source:
        oid, size = listed(path, MAX_FILE_BYTES)
        return Source(path, f"git:{oid}", size, parquet, lambda: blob(path, oid))

    return descriptor, find


def _resolve_revision(spec: str, repo: Path) -> str | None:
    """The commit a revision names, or None if it names none (or repo is no git repository)."""
    if not spec or spec.startswith("-"):  # never let a spec pass as an option to git
        return None
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else None


def load_side(spec: str, repo: Path = Path(".")) -> Side:
    """Read OLD or NEW: a folder with a datapackage.json (tried first), or a git revision of repo.

    A folder is relative to the working directory; a revision's files are read from repo with
    git, relative to repo (which may be a subfolder of the work tree).
    """
    path = Path(spec)
    if path.name == DESCRIPTOR_NAME and path.exists() and not path.is_dir():
        path = path.parent  # a FIFO or a device named so is refused by the reader, never opened to wait
    if path.is_dir():
        if not (path / DESCRIPTOR_NAME).exists():
            raise DiffError(f"{spec}: the folder has no {DESCRIPTOR_NAME}")
        return _load(spec, spec, *_folder_finder(path))
    sha = _resolve_revision(spec, repo)
    if sha is None:
        where = f"the git repository at {repo}"
        if _git(repo, "rev-parse", "--git-dir").returncode != 0:
            where = f"a git repository ({repo} is not one)"
        raise DiffError(f"{spec!r} is neither a folder with a {DESCRIPTOR_NAME} nor a revision of {where}")
    label = spec if sha.startswith(spec) else f"{spec} ({sha[:12]})"
    return _load(spec, label, *_revision_finder(repo, sha, label))


def _load(spec: str, label: str, read_descriptor: Callable[[], bytes], find: Finder) -> Side:
    raw = read_descriptor()
    try:
        descriptor = parse_json(raw, f"{label}: {DESCRIPTOR_NAME}")
    except DescriptorError as exc:
        raise DiffError(str(exc)) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise DiffError(f"{label}: {DESCRIPTOR_NAME} has no 'resources' list")
    tables: dict[str, Table] = {}
    for position, raw_resource in enumerate(descriptor["resources"]):
        if isinstance(raw_resource, dict) and raw_resource.get("eurasec:derived"):
            continue  # made by the build from the other tables (mentions): not data that a diff compares
        table = _table(raw_resource, find, label, position)
        tables[table.name] = table
    return Side(spec, label, descriptor, str(descriptor.get("version", "")), tables)


# --- a table ----------------------------------------------------------------------------

# Tables in memory, by signature: a table of NEW with the same file as OLD's shares its columns, read once.
_READ: weakref.WeakValueDictionary[tuple[Any, ...], TableData] = weakref.WeakValueDictionary()
_READ_LOCK = threading.Lock()


def _is_parquet(raw_resource: dict[str, Any]) -> bool:
    fmt = str(raw_resource.get("format") or "").lower()
    return fmt == "parquet" or (not fmt and str(raw_resource.get("path", "")).lower().endswith(".parquet"))


def _table(raw_resource: Any, find: Finder, label: str, position: int) -> Table:
    try:
        resource = parse_resource(raw_resource)
    except (KeyError, TypeError, AttributeError, DescriptorError) as exc:
        raise DiffError(f"{label}: a resource in {DESCRIPTOR_NAME} is malformed ({exc})") from None
    if not resource.path:
        raise DiffError(f"{label}: resource {resource.name!r} has no path")
    if not isinstance(raw_resource.get("path"), str):
        raise DiffError(f"{label}: resource {resource.name!r} has a path that is not one text")
    reason = unsafe_relative_reason(resource.path)
    if reason:
        raise DiffError(
            f"{label}: resource {resource.name!r} has the path {resource.path!r}, which {reason};"
            " nothing outside the package is read"
        )
    return Table(
        name=resource.name,
        fields={f.name: f.type for f in resource.fields},
        constraints={f.name: dict(f.constraints) for f in resource.fields},
        primary_key=resource.primary_key,
        source=find(resource.path, _is_parquet(raw_resource)),
        label=label,
        position=position,
    )


def _read_data(source: Source, types: dict[str, str]) -> TableData:
    import pyarrow as pa

    raw = source.read()
    read = _parquet_columns if source.parquet else functools.partial(_csv_columns, file=source.file)
    num_rows, columns = read(raw, types)
    del raw
    pa.default_memory_pool().release_unused()  # the parse's scratch memory goes back to the system now
    return TableData(num_rows, columns)


# --- CSV --------------------------------------------------------------------------------


def _csv_columns(raw: bytes | mmap.mmap, types: dict[str, str], file: str) -> tuple[int, dict[str, pa.Array]]:
    """Every field's text: by the fast reader when the file is regular and its header is the schema's."""
    import pyarrow as pa

    from ...read.table import scan_fast  # the reading that validate and build do, without its findings

    fast = None
    if types:
        try:
            fast = scan_fast(raw, file, list(types))
        except (pa.ArrowException, ValueError, UnicodeDecodeError):
            fast = None  # the strict reader says what is wrong
    if fast is not None:
        columns = {name: fast.columns[name] for name in types}
        return fast.num_rows, {name: _normalize(columns[name], kind) for name, kind in types.items()}
    records = _csv_records(bytes(raw))
    columns = {name: pa.array([r.get(name, "") for r in records], pa.string()) for name in types}
    return len(records), {name: _normalize(columns[name], kind) for name, kind in types.items()}


def _csv_records(data: bytes) -> list[dict[str, str]]:
    """The rows of a file that the fast reader left alone, read by the strict reader that validate uses."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DiffError(f"not UTF-8 (byte offset {exc.start})") from None
    table = parse(text, "")
    broken = next((f for f in table.findings if f.code == "csv-malformed"), None)
    if broken is not None:
        raise DiffError(f"the CSV cannot be parsed near line {broken.line}: {broken.message}")
    header = table.header or []
    return [dict(zip(header, record, strict=False)) for record in table.records if record]


# --- Parquet ----------------------------------------------------------------------------


def _parquet_columns(raw: bytes | mmap.mmap, types: dict[str, str]) -> tuple[int, dict[str, pa.Array]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise DiffError(f"not a readable Parquet file ({exc})") from None
    names = table.column_names
    columns: dict[str, pa.Array] = {}
    for name, kind in types.items():
        if name not in names:
            columns[name] = pa.nulls(table.num_rows, pa.string()).fill_null("")
            continue
        last = len(names) - 1 - names[::-1].index(name)  # as a record's dict keeps a repeated name's last value
        try:
            columns[name] = _typed_text(table.column(last).combine_chunks(), kind)
        except (pa.ArrowInvalid, pa.ArrowCapacityError) as exc:
            raise DiffError(f"the column {name!r} cannot be read as text ({exc})") from None
    return table.num_rows, columns


def _typed_text(array: pa.Array, kind: str) -> pa.Array:
    """A typed Parquet column as _text would show each value, by Arrow where it writes the same text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    kind_of = array.type
    if pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of):
        return _normalize(array.cast(pa.string()).fill_null(""), kind)
    if pa.types.is_integer(kind_of) or pa.types.is_date32(kind_of):
        return array.cast(pa.string()).fill_null("")  # decimal digits; a date as ISO 8601, as isoformat writes it
    if pa.types.is_boolean(kind_of):
        return pc.if_else(array, "true", "false").fill_null("")
    if pa.types.is_floating(kind_of):
        return _float_text(array)
    return pa.array([_text(value, kind) for value in array.to_pylist()], pa.string())


def _float_text(array: pa.Array) -> pa.Array:
    """Floats as _number writes them: whole ones under 2**53 by Arrow, the others (and nulls) by Python."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values = array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        whole = (values == np.floor(values)) & (np.abs(values) < 2**53)
    text = pa.array(np.where(whole, values, 0).astype(np.int64)).cast(pa.string())
    others = np.flatnonzero(~whole)
    if not len(others):
        return text
    replacements = [_text(v, "number") for v in array.take(pa.array(others)).to_pylist()]
    return pc.replace_with_mask(text, pa.array(~whole), pa.array(replacements, pa.string()))


# --- values as text ---------------------------------------------------------------------


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _text(value: Any, kind: str) -> str:
    """One value as text, the same whether it came from a CSV cell or a typed Parquet column."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, datetime.date):  # datetimes too: isoformat keeps their time
        return value.isoformat()
    text = str(value)
    if kind == "integer" and _INTEGER.fullmatch(text.strip()):
        return str(int(text))
    if kind == "number":
        try:
            return _number(float(text))
        except ValueError:
            return text
    if kind == "boolean":
        return "true" if text in TRUE_VALUES else "false" if text in FALSE_VALUES else text
    return text


def _normalize(column: pa.Array, kind: str) -> pa.Array:
    """A column of text as _text shows each value: Arrow finds the values it leaves alone, Python does the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "boolean":
        true, false = pa.array(TRUE_VALUES, pa.string()), pa.array(FALSE_VALUES, pa.string())
        return pc.if_else(pc.is_in(column, true), "true", pc.if_else(pc.is_in(column, false), "false", column))
    if kind not in ("integer", "number"):
        return column
    same = pc.match_substring_regex(column, _SAME_AS_INTEGER if kind == "integer" else _SAME_AS_NUMBER)
    if pc.all(same).as_py() is not False:
        return column
    changes = pc.invert(same)
    replacements = [_text(value, kind) for value in column.filter(changes).to_pylist()]
    return pc.replace_with_mask(column, changes, pa.array(replacements, pa.string()))
