"""The release's Parquet read where it is published: over HTTP by DuckDB (its httpfs extension from PyPI) and
by Polars, from a server on 127.0.0.1 that answers Range requests as a static web host does; and past one
machine, by Dask, with the same typed columns as eurasec.load (README shows these, and PySpark).

Nothing here leaves the machine: the server is this test's own, and DuckDB is told never to install or
auto-load an extension (its extension server is not reached; the extension is the file the
duckdb-ext-httpfs wheel installs).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from eurasec.build import build_release

from .conftest import DESCRIPTOR, resources, row_count, running


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


def tables(release: Path) -> list[str]:
    """Every table with a Parquet file in the release (the derived mentions too), from its files."""
    return sorted(p.stem for p in (release / "parquet").glob("*.parquet"))


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


# --- a static host on 127.0.0.1 ------------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class StaticHost(BaseHTTPRequestHandler):
    """Serves one folder's files read-only, with HEAD, Content-Length and single byte ranges (206), as S3, a
    CDN or GitHub's release downloads do: what remote Parquet readers need (Python's own
    SimpleHTTPRequestHandler ignores Range)."""

    root: Path
    requests: list[tuple[str, str, str]]  # (method, path, Range header): what the readers asked for
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _file(self) -> Path | None:
        relative = self.path.split("?", 1)[0].lstrip("/")
        target = (self.root / relative).resolve()
        if not relative or self.root.resolve() not in target.parents or not target.is_file():
            self.send_error(404)
            return None
        return target

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        wanted = self.headers.get("Range", "")
        with self.lock:
            self.requests.append((self.command, self.path, wanted))
        path = self._file()
        if path is None:
            return
        data = path.read_bytes()
        size = len(data)
        start, end, status = 0, size - 1, 200
        match = _RANGE.fullmatch(wanted.strip())
        if match and (match[1] or match[2]):
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]), size - 1) if match[2] else size - 1
            else:  # bytes=-N: the last N bytes
                start = max(size - int(match[2]), 0)
            if start > end or start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.apache.parquet")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body:
            self.wfile.write(data[start : end + 1])


@pytest.fixture
def host(release: Path):
    handler = type("Host", (StaticHost,), {"root": release, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with running(server) as base:
        yield base, handler.requests


def test_the_host_answers_ranges_as_a_static_host_does(host, release: Path):
    import urllib.request

    base, _ = host
    path = release / "parquet/actors.parquet"
    request = urllib.request.Request(f"{base}/parquet/actors.parquet", headers={"Range": "bytes=-8"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.read() == path.read_bytes()[-8:]  # a Parquet file ends with its footer's length and PAR1


# --- DuckDB, with the httpfs extension from PyPI --------------------------------------------------------


def httpfs_extension() -> Path:
    """The httpfs extension that the duckdb-ext-httpfs wheel installed, for the DuckDB that is installed."""
    import duckdb

    try:
        files = importlib.metadata.files("duckdb-ext-httpfs") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    found = [Path(str(f.locate())) for f in files if str(f).endswith("httpfs.duckdb_extension")]
    mine = [p for p in found if f"v{duckdb.__version__}" in p.parts]
    if not mine:
        message = (
            f"no httpfs extension for DuckDB {duckdb.__version__} from PyPI (found {[str(p) for p in found]}):"
            " pip install -e '.[test]' (duckdb and duckdb-ext-httpfs are pinned together)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return mine[0]


def duckdb_offline():
    """A DuckDB connection that never downloads an extension, with httpfs loaded from the wheel's file."""
    import duckdb

    db = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    db.execute(f"LOAD '{httpfs_extension()}'")
    return db


def test_duckdb_reads_every_table_over_http(host, release: Path):
    base, asked = host
    db = duckdb_offline()
    try:
        for name in tables(release):
            url = f"{base}/parquet/{name}.parquet"
            (count,) = db.execute("SELECT count(*) FROM read_parquet(?)", [url]).fetchone()
            assert count == parquet_rows(release / f"parquet/{name}.parquet"), name
        # a query with a filter and a group by, answered from the remote file
        actors = resources()["actors"]
        kinds = next(f for f in actors["schema"]["fields"] if f["name"] == "kind")["constraints"]["enum"]
        got = dict(db.execute(f"SELECT kind, count(*) FROM '{base}/parquet/actors.parquet' GROUP BY kind").fetchall())
        assert set(got) <= set(kinds) and sum(got.values()) == row_count("actors")
    finally:
        db.close()
    assert any(r for _, path, r in asked if path.endswith(".parquet")), "DuckDB read by byte ranges"


def test_duckdb_is_never_told_to_download_an_extension():
    import duckdb

    db = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        # without the wheel's file, http:// is refused at once rather than fetched from the extension server
        with pytest.raises(duckdb.Error):
            db.execute("SELECT * FROM 'http://127.0.0.1:9/x.parquet'")
    finally:
        db.close()


# --- Polars ---------------------------------------------------------------------------------------------


def test_polars_reads_every_table_over_http(host, release: Path):
    import polars as pl

    base, asked = host
    for name in tables(release):
        frame = pl.read_parquet(f"{base}/parquet/{name}.parquet")
        assert frame.height == parquet_rows(release / f"parquet/{name}.parquet"), name
    actors = pl.scan_parquet(f"{base}/parquet/actors.parquet").collect()
    assert isinstance(actors.schema["kind"], pl.Categorical)  # the fixed list of values, as in Parquet
    assert actors.schema["id"] == pl.String
    documents = pl.read_parquet(f"{base}/parquet/documents.parquet")
    date_fields = [f["name"] for f in resources()["documents"]["schema"]["fields"] if f["type"] == "date"]
    assert date_fields and all(documents.schema[name] == pl.Date for name in date_fields)
    assert any(path.endswith(".parquet") for _, path, _ in asked)


# --- Dask -----------------------------------------------------------------------------------------------


def dask_frame(path: Path):
    """README's Dask lines: nullable dtypes, and dates as datetime64[s] as eurasec.load gives them."""
    import dask.dataframe as dd

    frame = dd.read_parquet(path, dtype_backend="numpy_nullable")
    return frame.astype({c: "datetime64[s]" for c, t in frame.dtypes.items() if str(t).startswith("date32")})


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # dask's own call into pandas
def test_dask_gives_the_loaders_typed_columns(release: Path):
    import pandas as pd

    import eurasec

    for name in tables(release):
        loaded = eurasec.load(name, release=release)
        computed = dask_frame(release / f"parquet/{name}.parquet").compute().reset_index(drop=True)
        assert dict(computed.dtypes.astype(str)) == dict(loaded.dtypes.astype(str)), name
        for column in loaded.columns:
            if isinstance(loaded[column].dtype, pd.CategoricalDtype):
                assert list(computed[column].cat.categories) == list(loaded[column].cat.categories), (name, column)
        pd.testing.assert_frame_equal(computed, loaded, check_categorical=False)
