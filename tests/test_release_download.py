"""Loading a downloaded release: a local folder or a URL, verified against SHA256SUMS, cached atomically."""

from __future__ import annotations

import http.server
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

import eurasec
from eurasec.build import build_release
from eurasec.loaders.release import ChecksumError, ReleaseError

from .conftest import DESCRIPTOR, row_count, running

# These servers speak plain http on 127.0.0.1; the warning that this draws is tested in test_security_release.py.
pytestmark = pytest.mark.filterwarnings("ignore::eurasec.loaders.release.InsecureReleaseWarning")

# Row counts from the CSVs the release is built from: they hold for any data.
ACTOR_ROWS, STEP_ROWS = row_count("actors"), row_count("steps")


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


@pytest.fixture
def served(release: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A copy of the release, served over HTTP on 127.0.0.1; the test may tamper with the copy."""
    root = tmp_path / "www"
    shutil.copytree(release, root)
    handler = partial(QuietHandler, directory=str(root))
    with running(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url, root


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


class TruncatingHandler(QuietHandler):
    """Announces the whole file, sends half of it, and hangs up: an interrupted download."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.suffix != ".parquet":
            return super().do_GET()
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("EURASEC_CACHE", str(folder))
    return folder


def cached_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_a_local_release_folder_loads(release: Path):
    import pyarrow.parquet as pq

    assert eurasec.load_arrow("actors", release=release).equals(pq.read_table(release / "parquet/actors.parquet"))
    assert eurasec.tables(release=release)[0] == "documents"
    assert eurasec.connect(release=release).execute("SELECT count(*) FROM steps").fetchone() == (STEP_ROWS,)


def test_a_tampered_local_file_is_refused(release: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    data = bytearray((copy / "parquet/actors.parquet").read_bytes())
    data[100] ^= 0xFF
    (copy / "parquet/actors.parquet").write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"actors\.parquet has sha256"):
        eurasec.load("actors", release=copy)
    assert len(eurasec.load("steps", release=copy)) == STEP_ROWS  # untouched files still load


def test_a_folder_that_is_not_a_release_says_so(tmp_path: Path):
    with pytest.raises(ReleaseError, match="not a eurasec release"):
        eurasec.load("actors", release=tmp_path)


def test_a_url_release_downloads_verifies_and_caches(served, cache: Path):
    url, _ = served
    frame = eurasec.load("actors", release=url)
    assert len(frame) == ACTOR_ROWS and str(frame["kind"].dtype) == "category"
    assert cached_files(cache) == ["SHA256SUMS", "actors.parquet", "datapackage.json"]


def test_a_cached_release_loads_offline(release: Path, cache: Path, tmp_path: Path):
    root = tmp_path / "www"
    shutil.copytree(release, root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    with running(server) as url:
        eurasec.load("actors", release=url)
    # The server is gone: the cached SHA256SUMS still vouches for the cached files.
    assert len(eurasec.load("actors", release=url)) == ACTOR_ROWS
    with pytest.raises(ReleaseError, match="cannot download"):
        eurasec.load("steps", release=url)  # never downloaded, so not to be had offline


def test_a_tampered_download_is_refused_and_not_cached(served, cache: Path):
    url, root = served
    data = bytearray((root / "parquet/actors.parquet").read_bytes())
    data[-20] ^= 0xFF
    (root / "parquet/actors.parquet").write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="nothing was cached"):
        eurasec.load("actors", release=url)
    assert "actors.parquet" not in cached_files(cache)
    assert not [p for p in cache.rglob("*.part")]


def test_a_corrupt_cache_entry_is_replaced(served, cache: Path):
    url, _ = served
    eurasec.load("actors", release=url)
    (entry,) = cache.rglob("actors.parquet")
    entry.write_bytes(b"not parquet")
    assert len(eurasec.load("actors", release=url)) == ACTOR_ROWS
    assert entry.read_bytes()[:4] == b"PAR1"


def test_an_interrupted_download_leaves_nothing_that_looks_valid(release: Path, cache: Path):
    handler = partial(TruncatingHandler, directory=str(release))
    with running(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        with pytest.raises(ReleaseError, match="cannot download"):
            eurasec.load("actors", release=url)
    assert "actors.parquet" not in cached_files(cache)
    assert not [p for p in cache.rglob("*.part")]


def test_an_unreachable_url_is_a_clear_error():
    with pytest.raises(ReleaseError, match="cannot download"):
        eurasec.load("actors", release="http://127.0.0.1:9/eurasec")


def test_an_unknown_table_lists_the_tables(release: Path):
    with pytest.raises(eurasec.UnknownTableError, match="the tables are: documents, actors"):
        eurasec.load("actors; DROP TABLE actors", release=release)
