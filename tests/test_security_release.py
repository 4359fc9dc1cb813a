"""A release is untrusted input: hostile names, hostile servers, tampered-but-consistent files.

Every server here is real (http.server on 127.0.0.1, in a thread that ends by itself); every
release is a real build, tampered with and re-summed so that its checksums still match.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.server
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import eurasec
from eurasec.build import build_release
from eurasec.loaders import release as release_files
from eurasec.loaders.release import (
    ChecksumError,
    InsecureReleaseWarning,
    MalformedReleaseError,
    Release,
    ReleaseError,
    parse_checksums,
)
from eurasec.loaders.tables import data_version

from .conftest import DESCRIPTOR, row_count, running

# The servers below speak plain http; the warning itself is tested in test_plain_http_warns.
pytestmark = pytest.mark.filterwarnings("ignore::eurasec.loaders.release.InsecureReleaseWarning")

ACTORS = "parquet/actors.parquet"
# Row counts from the CSVs the release is built from: they hold for any data.
ACTOR_ROWS, STEP_ROWS = row_count("actors"), row_count("steps")
# The actors' fields, from the descriptor the release is built from.
ACTOR_FIELDS = next(
    [f["name"] for f in r["schema"]["fields"]]
    for r in json.loads(DESCRIPTOR.read_text(encoding="utf-8"))["resources"]
    if r["name"] == "actors"
)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("EURASEC_CACHE", str(folder))
    monkeypatch.delenv("EURASEC_DOWNLOAD_TIMEOUT", raising=False)
    monkeypatch.delenv("EURASEC_MAX_DOWNLOAD_BYTES", raising=False)
    return folder


def files_under(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def write_sums(folder: Path, extra: str = "") -> None:
    """SHA256SUMS that vouches for whatever the folder now holds: tampered, yet consistent."""
    names = sorted(
        (Path(top) / f).relative_to(folder).as_posix()
        for top, _, found in os.walk(folder, followlinks=True)  # a tampered release may hold symlinks
        for f in found
    )
    lines = [f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names if n != "SHA256SUMS"]
    (folder / "SHA256SUMS").write_text("".join(lines) + extra, encoding="utf-8")


def copy_of(release: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(release, target)
    return target


def edit_descriptor(folder: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    replaced = change(descriptor)
    path.write_text(json.dumps(descriptor if replaced is None else replaced), encoding="utf-8")
    write_sums(folder)


def resource(descriptor: dict[str, Any], name: str = "actors") -> dict[str, Any]:
    return next(r for r in descriptor["resources"] if r["name"] == name)


def field_of(descriptor: dict[str, Any], table: str, name: str) -> dict[str, Any]:
    return next(f for f in resource(descriptor, table)["schema"]["fields"] if f["name"] == name)


# --- servers -------------------------------------------------------------------------------

Route = Callable[[http.server.SimpleHTTPRequestHandler], None]


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client that hangs up mid-answer is the point here
        pass


@contextlib.contextmanager
def serve(root: Path, routes: dict[str, Route] | None = None, tls: Path | None = None) -> Iterator[str]:
    """Serve root on 127.0.0.1; a route answers one path (relative, unquoted) its own way.

    With tls (a folder holding cert.pem and key.pem), serve https.
    """
    table = routes or {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            import urllib.parse

            rel = urllib.parse.unquote(self.path.split("?", 1)[0]).lstrip("/")
            if rel in table:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    table[rel](self)
                return
            super().do_GET()

    server = QuietServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with running(server, "https" if tls else "http") as url:
        yield url


def drip_body(seconds: float = 5.0) -> Route:
    """Announce a body, then send one byte every 0.1 s: each read succeeds, so no socket timeout fires."""

    def answer(h):
        h.send_response(200)
        # The file's own size, which the release declares: a sound announcement, and far more than is sent.
        h.send_header("Content-Length", str(Path(h.translate_path(h.path)).stat().st_size))
        h.end_headers()
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.1)

    return answer


def drip_headers(seconds: float = 5.0) -> Route:
    """A status line, then a header that never ends, one byte every 0.1 s."""

    def answer(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(0.1)

    return answer


def announce(length: int, body: bytes = b"PAR1") -> Route:
    def answer(h):
        h.send_response(200)
        h.send_header("Content-Length", str(length))
        h.end_headers()
        h.wfile.write(body)

    return answer


def endless(total: int = 8 * 1024 * 1024) -> Route:
    """No Content-Length (HTTP/1.0, ends at close), and far more bytes than the file should have."""

    def answer(h):
        h.send_response(200)
        h.end_headers()
        block = b"\0" * 65536
        for _ in range(total // len(block)):
            h.wfile.write(block)

    return answer


def redirect(location: str) -> Route:
    def answer(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return answer


def body(data: bytes) -> Route:
    return announce(len(data), data)


def nothing_of(cache: Path, name: str) -> bool:
    """Neither the file nor any temporary of it is in the cache."""
    left = [p for p in files_under(cache) if p.endswith(name) or p.endswith(".part")]
    return not left


# --- 1. names from a release stay inside the release and the cache ------------------------

HOSTILE_NAMES = [
    "/ABSOLUTE/evil.pth",
    "../evil.pth",
    "parquet/../../evil.pth",
    "..",
    "a\\..\\..\\evil.pth",
    "C:/evil.pth",
    "c:evil.pth",
    "file:///evil.pth",
    "./evil.pth",
    "parquet//evil.pth",
    "parquet/",
    ".evil.pth",
    "parquet/.actors.parquet.x.part",
    "evil\x00.pth",
    "evil\x1b.pth",
    "x" * 2000,
]


def hostile(name: str, outside: Path) -> str:
    return name.replace("/ABSOLUTE", str(outside))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_hostile_name_in_sha256sums_refuses_the_whole_downloaded_release(
    name: str, release: Path, tmp_path: Path, cache: Path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    bad = hostile(name, outside)
    root = copy_of(release, tmp_path, "www")
    payload = b"import os; os.system('touch /tmp/pwned')\n"
    write_sums(root, f"{hashlib.sha256(payload).hexdigest()}  {bad}\n")
    with serve(root, {bad.lstrip("/"): body(payload)}) as url:
        for call in (lambda: eurasec.tables(release=url), lambda: eurasec.load("actors", release=url)):
            with pytest.raises(MalformedReleaseError, match=r"line \d+ of SHA256SUMS"):
                call()
    assert files_under(outside) == []
    assert not (tmp_path / "evil.pth").exists() and not (cache.parent / "evil.pth").exists()
    assert files_under(cache) == []  # the refused list is not even cached


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_hostile_name_in_a_local_sha256sums_refuses_the_release(name: str, release: Path, tmp_path: Path):
    folder = copy_of(release, tmp_path)
    write_sums(folder, f"{'0' * 64}  {hostile(name, tmp_path)}\n")
    with pytest.raises(MalformedReleaseError, match=r"line \d+ of SHA256SUMS"):
        eurasec.tables(release=folder)


@pytest.mark.parametrize(
    "line",
    ["not a checksum line", "0123  short.txt", f"{'g' * 64}  datapackage.json", f"{'0' * 64} one-space.json"],
)
def test_a_malformed_sha256sums_line_is_named(line: str, release: Path, tmp_path: Path):
    folder = copy_of(release, tmp_path)
    write_sums(folder, line + "\n")
    with pytest.raises(MalformedReleaseError, match=r"line \d+ of SHA256SUMS .*is not '<sha256>  <file>'"):
        eurasec.tables(release=folder)


def test_a_name_listed_twice_or_sums_that_are_not_text_are_refused(release: Path, tmp_path: Path):
    folder = copy_of(release, tmp_path)
    write_sums(folder, f"{'0' * 64}  datapackage.json\n")
    with pytest.raises(MalformedReleaseError, match="a second time"):
        eurasec.tables(release=folder)
    (folder / "SHA256SUMS").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(MalformedReleaseError, match="not UTF-8"):
        eurasec.tables(release=folder)


def test_path_checks_the_name_again_whatever_the_list_says(tmp_path: Path, cache: Path):
    for location in (str(tmp_path), "http://127.0.0.1:9/x"):
        forged = Release(location, _sums={"../evil.pth": "0" * 64, "/etc/passwd": "0" * 64})
        for name in ("../evil.pth", "/etc/passwd"):
            with pytest.raises(MalformedReleaseError, match="cannot be a file of a release"):
                forged.path(name)
    assert files_under(cache) == [] and not (tmp_path.parent / "evil.pth").exists()
    assert parse_checksums(f"{'A' * 64}  ok/name with spaces.parquet\n", "x") == {
        "ok/name with spaces.parquet": "a" * 64
    }


@pytest.mark.parametrize("path", ["../outside.parquet", "/ABSOLUTE/outside.parquet", "parquet\\actors.parquet", ""])
def test_a_hostile_resource_path_is_refused_before_use(path: str, release: Path, tmp_path: Path, cache: Path):
    folder = copy_of(release, tmp_path)
    bad = path.replace("/ABSOLUTE", str(tmp_path))
    shutil.copy2(folder / ACTORS, tmp_path / "outside.parquet")
    edit_descriptor(folder, lambda d: resource(d).update(path=bad))
    with pytest.raises(MalformedReleaseError, match="table 'actors' has a path"):
        eurasec.load("actors", release=folder)
    with serve(folder) as url:
        with pytest.raises(MalformedReleaseError, match="table 'actors' has a path"):
            eurasec.load_arrow("actors", release=url)
    assert "outside.parquet" not in " ".join(files_under(cache))


def symlink_file_outside(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.parquet"
    (folder / ACTORS).rename(outside)
    (folder / ACTORS).symlink_to(outside)


def symlink_file_inside(folder: Path, tmp_path: Path) -> None:
    (folder / ACTORS).rename(folder / "parquet/real.parquet")
    (folder / ACTORS).symlink_to("real.parquet")


def symlink_folder(folder: Path, tmp_path: Path) -> None:
    (folder / "parquet").rename(tmp_path / "parquet-elsewhere")
    (folder / "parquet").symlink_to(tmp_path / "parquet-elsewhere")


def symlink_descriptor(folder: Path, tmp_path: Path) -> None:
    (folder / "datapackage.json").rename(tmp_path / "datapackage.json")
    (folder / "datapackage.json").symlink_to(tmp_path / "datapackage.json")


@pytest.mark.parametrize("make", [symlink_file_outside, symlink_file_inside, symlink_folder, symlink_descriptor])
def test_a_local_release_file_reached_through_a_symlink_is_refused(make, release: Path, tmp_path: Path):
    folder = copy_of(release, tmp_path)
    make(folder, tmp_path)
    write_sums(folder)  # the sums match what the links lead to: only the links are wrong
    with pytest.raises(MalformedReleaseError, match="symlink"):
        eurasec.load("actors", release=folder)


def test_a_symlinked_sha256sums_is_refused(release: Path, tmp_path: Path):
    folder = copy_of(release, tmp_path)
    (folder / "SHA256SUMS").rename(tmp_path / "SHA256SUMS")
    (folder / "SHA256SUMS").symlink_to(tmp_path / "SHA256SUMS")
    with pytest.raises(MalformedReleaseError, match="symlink"):
        eurasec.tables(release=folder)


def test_a_release_folder_that_is_itself_a_symlink_still_loads(release: Path, tmp_path: Path):
    (tmp_path / "link").symlink_to(release)
    assert len(eurasec.load("actors", release=tmp_path / "link")) == ACTOR_ROWS


def test_names_are_url_encoded(release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    odd = "parquet/actors #1?100%.parquet"
    (root / ACTORS).rename(root / odd)
    edit_descriptor(root, lambda d: resource(d).update(path=odd))
    with serve(root) as url:
        assert len(eurasec.load("actors", release=url)) == ACTOR_ROWS
    assert "actors #1?100%.parquet" in [Path(p).name for p in files_under(cache)]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:,hello"])
def test_a_redirect_away_from_http_is_refused(target: str, release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    with serve(root, {ACTORS: redirect(target)}) as url:
        with pytest.raises(ReleaseError, match="cannot download"):
            eurasec.load("actors", release=url)
    assert nothing_of(cache, "actors.parquet")


def test_a_redirect_to_another_http_url_is_followed(release: Path, tmp_path: Path):
    root = copy_of(release, tmp_path, "www")
    with serve(root) as real, serve(root, {ACTORS: redirect_to_real(real)}) as url:
        assert len(eurasec.load("actors", release=url)) == ACTOR_ROWS


def redirect_to_real(real: str) -> Route:
    return redirect(f"{real}/{ACTORS}")


@pytest.fixture
def tls(tmp_path: Path, monkeypatch) -> Path:
    """A self-signed certificate for 127.0.0.1, trusted by this test's downloads only."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path / "tls"
    folder.mkdir()
    request = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        ["openssl", *request.split(), "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(folder / "cert.pem"))
    return folder


def test_https_loads_without_a_warning_and_never_steps_down_to_http(
    release: Path, tmp_path: Path, cache: Path, tls: Path
):
    root = copy_of(release, tmp_path, "www")
    with serve(root) as plain, serve(root, {ACTORS: redirect(f"{plain}/{ACTORS}")}, tls=tls) as url:
        assert url.startswith("https://")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(eurasec.load("steps", release=url)) == STEP_ROWS
            with pytest.raises(ReleaseError, match="redirects to http://"):
                eurasec.load("actors", release=url)
    assert nothing_of(cache, "actors.parquet")


# --- 2. plain http warns; file:// is a local folder -----------------------------------------


def test_plain_http_warns(release: Path, tmp_path: Path):
    with serve(copy_of(release, tmp_path, "www")) as url:
        with pytest.warns(InsecureReleaseWarning, match=r"anyone on the connection can change.*https://"):
            eurasec.tables(release=url)
    assert issubclass(eurasec.InsecureReleaseWarning, UserWarning)


def test_a_file_url_reads_the_folder_in_place_without_warning(release: Path, cache: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(eurasec.load("actors", release=release.as_uri())) == ACTOR_ROWS
        assert len(eurasec.load("actors", release=release)) == ACTOR_ROWS
    assert files_under(cache) == []  # nothing downloaded, nothing cached


def test_a_file_url_of_another_host_or_an_unknown_scheme_is_refused(release: Path):
    with pytest.raises(ReleaseError, match="on this machine"):
        eurasec.tables(release=f"file://otherhost{release}")
    for location in ("ftp://127.0.0.1/eurasec", "javascript://x", "http:///no-host", "https://h/x?token=1"):
        with pytest.raises(ReleaseError, match="release"):
            eurasec.tables(release=location)


# --- 3. downloads are bounded in time and size, and streamed -------------------------------


@pytest.mark.parametrize("route", [drip_body(), drip_headers()], ids=["body", "headers"])
@pytest.mark.parametrize("how", ["env", "constant"])
def test_a_slow_drip_server_meets_the_deadline(
    route, how: str, release: Path, tmp_path: Path, cache: Path, monkeypatch
):
    if how == "env":
        monkeypatch.setenv("EURASEC_DOWNLOAD_TIMEOUT", "1")
    else:
        monkeypatch.setattr(release_files, "DOWNLOAD_TIMEOUT", 1.0)
    root = copy_of(release, tmp_path, "www")
    with serve(root, {ACTORS: route}) as url:
        start = time.monotonic()
        with pytest.raises(ReleaseError, match=r"took longer than the 1 s allowed"):
            eurasec.load("actors", release=url)
        assert time.monotonic() - start < 4
    assert nothing_of(cache, "actors.parquet")


def test_a_server_that_announces_too_much_is_refused_before_reading(release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    with serve(root, {ACTORS: announce(3 * 1024**3)}) as url:
        start = time.monotonic()
        with pytest.raises(ReleaseError, match=r"announces 3221225472 bytes.*the size the release declares"):
            eurasec.load("actors", release=url)
        assert time.monotonic() - start < 4
    assert nothing_of(cache, "actors.parquet")


def test_a_body_longer_than_the_declared_size_is_cut_off(release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    with serve(root, {ACTORS: endless()}) as url:
        with pytest.raises(ReleaseError, match=r"larger than the \d+ bytes allowed \(the size the release declares"):
            eurasec.load("actors", release=url)
    assert nothing_of(cache, "actors.parquet")


def test_a_file_of_undeclared_size_meets_the_global_cap(release: Path, tmp_path: Path, cache: Path, monkeypatch):
    monkeypatch.setenv("EURASEC_MAX_DOWNLOAD_BYTES", "100000")
    root = copy_of(release, tmp_path, "www")
    with serve(root) as url:
        assert len(eurasec.load("actors", release=url)) == ACTOR_ROWS  # small files pass
        with pytest.raises(ReleaseError, match=r"100000 bytes allowed \(EURASEC_MAX_DOWNLOAD_BYTES\)"):
            eurasec.connect(release=url)  # the database is larger, and the descriptor declares no size for it
    assert nothing_of(cache, "eurasec.sqlite")


def test_a_wrong_hash_download_is_refused_and_nothing_is_cached(release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    size = (root / ACTORS).stat().st_size
    with serve(root, {ACTORS: body(b"PAR1" + b"\0" * (size - 4))}) as url:
        with pytest.raises(ChecksumError, match="nothing was cached"):
            eurasec.load("actors", release=url)
    assert nothing_of(cache, "actors.parquet")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EURASEC_DOWNLOAD_TIMEOUT", "soon"),
        ("EURASEC_DOWNLOAD_TIMEOUT", "-1"),
        ("EURASEC_DOWNLOAD_TIMEOUT", "inf"),
        ("EURASEC_MAX_DOWNLOAD_BYTES", "4GiB"),
        ("EURASEC_MAX_DOWNLOAD_BYTES", "0"),
    ],
)
def test_a_bad_bound_in_the_environment_is_a_clear_error(
    variable: str, value: str, release: Path, tmp_path, monkeypatch
):
    monkeypatch.setenv(variable, value)
    with serve(copy_of(release, tmp_path, "www")) as url:
        with pytest.raises(ReleaseError, match=variable):
            eurasec.tables(release=url)


def test_a_bad_bound_is_an_error_even_when_the_cache_would_do(release: Path, tmp_path: Path, monkeypatch):
    root = copy_of(release, tmp_path, "www")
    with serve(root) as url:
        eurasec.load("actors", release=url)
    monkeypatch.setenv("EURASEC_DOWNLOAD_TIMEOUT", "never")
    with pytest.raises(ReleaseError, match="EURASEC_DOWNLOAD_TIMEOUT must be a positive number"):
        eurasec.load("actors", release=url)  # the server is gone, the cache holds everything


# --- 4. temporaries of killed downloads are removed; live ones are not ----------------------


def age(path: Path, seconds: float = 3600) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_abandoned_temporaries_are_removed_and_live_ones_kept(release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    with serve(root) as url:
        folder = Release(url).cache_folder / "parquet"
        folder.mkdir(parents=True)
        dead, old, live = (folder / f".actors.parquet.{k}.part" for k in ("dead", "old", "live"))
        fresh_new, old_new = (folder / f".actors.parquet.{k}.new" for k in ("fresh", "old"))  # not yet locked
        not_ours = folder / "actors.parquet.part"  # not hidden: could be a release's own file
        for path in (dead, old, live, fresh_new, old_new, not_ours):
            path.write_bytes(b"half a file")
        for path in (old, old_new, not_ours):
            age(path)
        with open(live, "rb") as holder:
            fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # another download, still running
            eurasec.tables(release=url)
            assert not dead.exists() and not old.exists() and not old_new.exists()
            assert live.exists() and fresh_new.exists() and not_ours.exists()
        eurasec.tables(release=url)
        assert not live.exists()  # its download is gone now


def test_kill_9_mid_download_leaves_a_temporary_that_the_next_use_removes(release: Path, tmp_path: Path, cache: Path):
    root = copy_of(release, tmp_path, "www")
    with serve(root, {ACTORS: drip_body(seconds=8)}) as url:
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys, eurasec; eurasec.load('actors', release=sys.argv[1])", url],
            env={**os.environ, "EURASEC_CACHE": str(cache), "EURASEC_DOWNLOAD_TIMEOUT": "60"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            # The slow file's temporary: others (SHA256SUMS, the descriptor) are written as briefly, before it.
            while not list(cache.rglob("parquet/*.part")) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        (part,) = cache.rglob("parquet/*.part")
        assert part.parent == Release(url).cache_folder / "parquet"  # streamed inside the cache
        eurasec.tables(release=url)  # no waiting: the dead process's lock went with it
        assert not part.exists()


# --- 5. connect() writes nothing, ever -----------------------------------------------------

DENIED = "not authorized|authorization denied"
READ_ONLY = "readonly"
WRITES = [
    ("ATTACH 'file:{db}?mode=rw' AS mine", DENIED),
    ("ATTACH '{new}' AS other", DENIED),
    ("ATTACH ':memory:' AS scratch", DENIED),
    ("DETACH main", DENIED),
    ("VACUUM INTO '{new}'", DENIED),
    ("VACUUM", DENIED),
    ("INSERT INTO actors (id) VALUES ('x')", READ_ONLY),
    ("DELETE FROM actors", READ_ONLY),
    ("UPDATE actors SET name = 'x'", READ_ONLY),
    ("CREATE TABLE t (x)", READ_ONLY),
    ("CREATE TEMP TABLE t (x)", READ_ONLY),
    ("DROP VIEW initiative_roles", READ_ONLY),
    ("ANALYZE", READ_ONLY),
    ("PRAGMA writable_schema = ON", DENIED),
    ("PRAGMA writable_schema", DENIED),
    ("PRAGMA query_only = OFF", DENIED),
    ("PRAGMA QUERY_ONLY = 0", DENIED),
    ("PRAGMA main.query_only = false", DENIED),
    ("PRAGMA journal_mode = WAL", DENIED),
    ("PRAGMA user_version = 7", DENIED),
    ("PRAGMA temp_store_directory = '{scratch}'", DENIED),
]


def snapshot(folder: Path) -> dict[str, str]:
    return {p: hashlib.sha256((folder / p).read_bytes()).hexdigest() for p in files_under(folder)}


@pytest.mark.parametrize("where", ["local", "url", "wal"])
def test_connect_cannot_write_anything(where: str, release: Path, tmp_path: Path, cache: Path):
    folder = copy_of(release, tmp_path)
    if where == "wal":  # a database in WAL mode would want -wal and -shm files beside it
        with contextlib.closing(sqlite3.connect(folder / "eurasec.sqlite")) as own:
            assert own.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
        write_sums(folder)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with serve(folder) as url:
        db = eurasec.connect(release=url if where == "url" else folder)
        database = Path(db.execute("PRAGMA database_list").fetchone()[2])
        before = {"release": snapshot(folder), "cache": snapshot(cache), "scratch": snapshot(scratch)}
        for statement, refusal in WRITES:
            sql = statement.format(db=database, new=scratch / "new.sqlite", scratch=scratch)
            for autocommit in (True, False):  # the refusal comes from the guard, not from an open transaction
                db.isolation_level = None if autocommit else ""
                with pytest.raises(sqlite3.DatabaseError, match=refusal):
                    db.execute(sql)
                db.rollback()
            with pytest.raises(sqlite3.DatabaseError, match=READ_ONLY):
                db.execute("DELETE FROM actors")  # still read-only, whatever came before
            db.rollback()
        assert db.execute("PRAGMA query_only").fetchone() == (1,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # immutable: no journal, no lock files
        assert db.execute("SELECT count(*) FROM actors").fetchone() == (ACTOR_ROWS,)
        assert db.execute("SELECT count(*) FROM initiative_roles").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'security'").fetchone()[0] > 0
        assert [r[1] for r in db.execute("PRAGMA table_info(actors)")][:2] == ["id", "name"]
        db.close()
        after = {"release": snapshot(folder), "cache": snapshot(cache), "scratch": snapshot(scratch)}
    assert after == before
    assert not (scratch / "new.sqlite").exists()


# --- 6. a tampered-but-consistent release is a MalformedReleaseError, never a crash ---------

LOADERS: dict[str, Callable[[Path], object]] = {
    "tables": lambda r: eurasec.tables(release=r),
    "describe": lambda r: eurasec.describe("actors", release=r),
    "load": lambda r: eurasec.load("actors", release=r),
    "load_arrow": lambda r: eurasec.load_arrow("actors", release=r),
    "connect": lambda r: contextlib.closing(eurasec.connect(release=r)).__exit__(None, None, None),
    "data_version": lambda r: data_version(release=r),
}
ALL = frozenset(LOADERS)
TABLE = frozenset({"describe", "load", "load_arrow"})
ROWS = frozenset({"load", "load_arrow"})


def drop(key: str, where: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        del where(d)[key]

    return change


def put(key: str, value: Any, where: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    return lambda d: where(d).__setitem__(key, value)


def top(d: dict[str, Any]) -> dict[str, Any]:
    return d


def actors(d: dict[str, Any]) -> dict[str, Any]:
    return resource(d)


def schema(d: dict[str, Any]) -> dict[str, Any]:
    return resource(d)["schema"]


def kind(d: dict[str, Any]) -> dict[str, Any]:
    return field_of(d, "actors", "kind")


def kind_constraints(d: dict[str, Any]) -> dict[str, Any]:
    return kind(d)["constraints"]


DESCRIPTOR_TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], Any], frozenset[str], str]] = {
    "a list, not an object": (lambda d: [d], ALL - {"connect"}, "not an object"),
    "no resources": (drop("resources", top), ALL - {"connect"}, "no list of resources"),
    "resources an object": (put("resources", {"a": 1}, top), ALL - {"connect"}, "no list"),
    "a resource is text": (lambda d: d["resources"].append("x"), ALL - {"connect"}, "not an object"),
    "a resource has no name": (drop("name", actors), ALL - {"connect"}, "has no name"),
    "a name is a number": (put("name", 7, actors), ALL - {"connect"}, "has no name"),
    "a table twice": (lambda d: d["resources"].append(resource(d)), ALL - {"connect"}, "twice"),
    "no version": (drop("version", top), {"data_version"}, "no version"),
    "version a number": (put("version", 1, top), {"data_version"}, "no version"),
    "no schema": (drop("schema", actors), TABLE, "table 'actors' has no schema"),
    "schema is text": (put("schema", "x", actors), TABLE, "no schema"),
    "no fields": (drop("fields", schema), TABLE, "no schema with a list of fields"),
    "a field is text": (
        lambda d: schema(d)["fields"].append("x"),
        TABLE,
        f"field {len(ACTOR_FIELDS)} of table 'actors'",
    ),
    "a field has no name": (drop("name", kind), TABLE, "is not an object with a name"),
    "a field twice": (lambda d: schema(d)["fields"].append(kind(d)), TABLE, "names a field twice"),
    "an unknown type": (put("type", "geopoint", kind), TABLE, "field 'kind' of table 'actors' has type 'geopoint'"),
    "a type that is a list": (put("type", ["string"], kind), TABLE, "field 'kind'"),
    "constraints are text": (put("constraints", "x", kind), TABLE, "constraints that are not an object"),
    "an enum that is text": (put("enum", "state", kind_constraints), TABLE, "enum that is not a list"),
    "an enum of objects": (put("enum", [{"a": 1}], kind_constraints), TABLE, "not text or a number"),
    "an enum value twice": (put("enum", ["state", "state"], kind_constraints), TABLE, "lists a value twice"),
    "a title that is a list": (put("title", ["x"], actors), TABLE, "title that is a list"),
    "a primary key not a field": (put("primaryKey", ["nope"], schema), TABLE, "primary key"),
    "no path": (drop("path", actors), TABLE, "has a path None"),
    "a path that is a number": (put("path", 3, actors), TABLE, "has a path 3"),
    "a size that is text": (put("bytes", "big", actors), TABLE, "size in bytes"),
    "a negative size": (put("bytes", -1, actors), TABLE, "size in bytes"),
    "a path not in SHA256SUMS": (put("path", "parquet/nope.parquet", actors), ROWS, "not listed in SHA256SUMS"),
    "the database as parquet": (put("path", "eurasec.sqlite", actors), ROWS, "not a readable Parquet file"),
    "json as parquet": (put("path", "metadata.json", actors), ROWS, "not a readable Parquet file"),
    "another table's file": (put("path", "parquet/steps.parquet", actors), ROWS, "do not match its schema"),
    "a field the file lacks": (
        lambda d: schema(d)["fields"].append({"name": "extra", "type": "string"}),
        ROWS,
        r"missing \['extra'\]",
    ),
    "a field the file has, dropped": (
        lambda d: schema(d)["fields"].remove(field_of(d, "actors", ACTOR_FIELDS[-1])),
        ROWS,
        rf"unexpected \['{ACTOR_FIELDS[-1]}'\]",
    ),
    "fields reordered": (lambda d: schema(d)["fields"].reverse(), ROWS, "in another order"),
    "text declared an integer": (put("type", "integer", kind), ROWS, "is of type integer in the schema"),
    "an enum without a value in use": (
        put("enum", ["state"], kind_constraints),
        ROWS,
        r"field 'kind' of table 'actors' has the value '\w+', which is not in its enum \(state\)",
    ),
}


def outcomes(folder: Path) -> dict[str, BaseException | None]:
    """What each loader does with a release: None if it works, else the exception."""
    done: dict[str, BaseException | None] = {}
    for name, call in LOADERS.items():
        try:
            call(folder)
            done[name] = None
        except Exception as exc:
            done[name] = exc
    return done


@pytest.mark.parametrize("story", list(DESCRIPTOR_TAMPERING))
def test_a_tampered_descriptor_is_a_malformed_release(story: str, release: Path, tmp_path: Path):
    change, expected, message = DESCRIPTOR_TAMPERING[story]
    folder = copy_of(release, tmp_path)
    edit_descriptor(folder, change)
    done = outcomes(folder)
    failed = {name for name, exc in done.items() if exc is not None}
    assert failed == set(expected), done
    for name in failed:
        exc = done[name]
        assert isinstance(exc, MalformedReleaseError) or (name in ROWS and "not listed" in str(exc)), (name, exc)
        assert type(exc) in (MalformedReleaseError, ReleaseError), (name, repr(exc))
    some = done[sorted(failed)[0]]
    assert some is not None
    assert __import__("re").search(message, str(some)), str(some)


def rewrite_actors(folder: Path, change: Callable[[Any], Any]) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(folder / ACTORS)
    pq.write_table(change(table), folder / ACTORS)
    write_sums(folder)


def value_outside_enum(table):
    import pyarrow as pa

    kinds = table.column("kind").cast(pa.string()).to_pylist()
    kinds[0] = "foo"
    return table.set_column(table.column_names.index("kind"), "kind", pa.array(kinds, pa.string()))


def value_outside_enum_in_the_dictionary(table):
    import pyarrow as pa

    kinds = table.column("kind").cast(pa.string()).to_pylist()
    kinds[0] = "foo"
    encoded = pa.array(kinds, pa.string()).dictionary_encode()
    return table.set_column(table.column_names.index("kind"), "kind", encoded)


def column_dropped(table):
    return table.drop_columns([ACTOR_FIELDS[-1]])


def column_added(table):
    import pyarrow as pa

    return table.append_column("extra", pa.array([1] * len(table)))


def column_renamed(table):
    return table.rename_columns([("nom" if n == "name" else n) for n in table.column_names])


def text_as_numbers(table):
    import pyarrow as pa

    return table.set_column(table.column_names.index("name"), "name", pa.array(range(len(table)), pa.int64()))


PARQUET_TAMPERING = {
    "a value outside the enum": (value_outside_enum, r"the value 'foo', which is not in its enum"),
    "a value outside the enum, dictionary-encoded": (
        value_outside_enum_in_the_dictionary,
        r"field 'kind' of table 'actors' has the value 'foo'",
    ),
    "a column dropped": (column_dropped, rf"missing \['{ACTOR_FIELDS[-1]}'\]"),
    "a column added": (column_added, r"unexpected \['extra'\]"),
    "a column renamed": (column_renamed, r"missing \['name'\], unexpected \['nom'\]"),
    "numbers where text belongs": (text_as_numbers, "field 'name' of table 'actors' is of type string in the schema"),
}


@pytest.mark.parametrize("story", list(PARQUET_TAMPERING))
def test_a_tampered_parquet_file_is_a_malformed_release(story: str, release: Path, tmp_path: Path):
    change, message = PARQUET_TAMPERING[story]
    folder = copy_of(release, tmp_path)
    rewrite_actors(folder, change)
    for load in (eurasec.load, eurasec.load_arrow):
        with pytest.raises(MalformedReleaseError, match=message):
            load("actors", release=folder)
    assert len(eurasec.load("steps", release=folder)) == STEP_ROWS  # the other tables still load


@pytest.mark.parametrize(
    ("file", "data", "loader", "message"),
    [
        (ACTORS, b"not parquet at all", "load", "not a readable Parquet file"),
        (ACTORS, b"", "load_arrow", "not a readable Parquet file"),
        ("eurasec.sqlite", b"not a database, just text " * 100, "connect", "not a readable SQLite database"),
        ("datapackage.json", b"{ not json", "tables", "descriptor cannot be read"),
        ("datapackage.json", b"\xff\xfe\x00", "describe", "descriptor cannot be read"),
        ("datapackage.json", b"[" * 100000 + b"]" * 100000, "data_version", "descriptor cannot be read|not an object"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_a_malformed_release(
    file: str, data: bytes, loader: str, message: str, release: Path, tmp_path: Path
):
    folder = copy_of(release, tmp_path)
    (folder / file).write_bytes(data)
    write_sums(folder)
    with pytest.raises(MalformedReleaseError, match=message):
        LOADERS[loader](folder)


def test_a_value_outside_the_enum_is_refused_over_http_too(release: Path, tmp_path: Path):
    root = copy_of(release, tmp_path, "www")
    rewrite_actors(root, value_outside_enum)
    with serve(root) as url:
        with pytest.raises(MalformedReleaseError, match="'foo'"):
            eurasec.load("actors", release=url)


# --- 7. what `release=` may be ------------------------------------------------------------


@pytest.mark.parametrize("location", ["", " ", "\t\n"])
def test_an_empty_release_is_refused_not_read_as_the_current_directory(
    location: str, release: Path, tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(copy_of(release, tmp_path))  # a release that an empty path would have found
    for call in LOADERS.values():
        with pytest.raises(ReleaseError, match="release is empty"):
            call(location)  # type: ignore[arg-type]


@pytest.mark.parametrize("location", [42, b"/tmp/release", ["x"], object(), 1.5])
def test_a_release_of_the_wrong_type_is_a_release_error(location: object):
    for call in LOADERS.values():
        with pytest.raises(ReleaseError, match="release must be"):
            call(location)  # type: ignore[arg-type]


def test_a_release_with_a_control_character_is_refused(tmp_path: Path):
    with pytest.raises(ReleaseError, match="control character"):
        eurasec.tables(release=f"{tmp_path}\x00x")
