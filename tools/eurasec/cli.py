"""The `eurasec` command: a thin layer over the library. Heavy imports happen inside commands.

No command ends in a traceback: an exception that a command does not handle is a bug in eurasec (an
InternalError from a check, or anything else), said in one message on stderr that names eurasec, not
the data, with exit status 2; `--debug` prints its traceback too.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from .model.descriptor import DESCRIPTOR_NAME

F = TypeVar("F", bound=Callable[..., Any])

_DEBUG = "eurasec.debug"  # in the context's meta, which a command's context shares with the group's
REPORT = 'report it with the input that shows it (docs/security.md, "Reporting a problem", says how)'


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_DEBUG] = True


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    callback=_set_debug,
    help="On an internal error (a bug in eurasec), print its traceback.",
)


def internal_error(exc: BaseException, *, debug: bool, what: str, how: str = "with --debug") -> NoReturn:
    """Say that eurasec failed, not the data, and exit 2: one message on stderr (and, with debug, the
    traceback of the exception that caused it before it); nothing on stdout.

    what: where it failed, when exc is no InternalError (which names its check itself): "eurasec's fmt command".
    how: how to run it again to see the traceback.
    """
    from .model.findings import InternalError
    from .model.text import escape_text

    if isinstance(exc, InternalError):
        cause, message = exc.error, str(exc)
    else:
        cause, message = exc, f"internal error in {what}: {type(exc).__name__}: {exc}"
    if debug:  # escaped as the message is: an exception's text may quote the data
        click.echo(escape_text("".join(traceback.format_exception(cause)).rstrip("\n"), keep="\n"), err=True)
        advice = f"Please {REPORT}, with the traceback above."
    else:
        advice = f"Run it again {how} to see the traceback, and {REPORT}."
    click.echo(f"error: {escape_text(message)}", err=True)
    click.echo(f"This is a bug in eurasec, not a problem with your data. {advice}", err=True)
    sys.exit(2)


class _Eurasec(click.Group):
    """The command group: an exception a command does not handle is eurasec's bug (see internal_error)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit, EOFError):
            raise  # click's own: usage errors, Ctrl-C, a normal exit
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # the reader went away: click leaves quietly
            name = ctx.invoked_subcommand
            own = name in ("validate", "build")  # the commands with a --debug of their own
            internal_error(
                exc,
                debug=bool(ctx.meta.get(_DEBUG)),
                what=f"eurasec's {name} command" if name else "eurasec",
                how="with --debug" if own else f"as eurasec --debug {name or 'COMMAND'} …",
            )


descriptor_argument = click.argument(
    "descriptor",
    required=False,
    default=DESCRIPTOR_NAME,
    type=click.Path(dir_okay=True, path_type=Path),
)


def descriptor_option(help_text: str) -> Callable[[F], F]:
    """`--descriptor`, for the commands whose arguments are something else: the package they work on."""
    return click.option(
        "--descriptor",
        type=click.Path(dir_okay=True, path_type=Path),
        default=DESCRIPTOR_NAME,
        show_default=True,
        help=help_text,
    )


@click.group(cls=_Eurasec, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eurasec")
@debug_option
def cli() -> None:
    """eurasec: the Eurasian security discourse as data, and the tools that keep it correct."""


@cli.command()
@descriptor_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for workflow annotations.",
)
@click.option(
    "--engine",
    type=click.Choice(["fast", "frictionless"]),
    default="fast",
    show_default=True,
    help="fast: frictionless' data checks run column-wise, with the same findings; "
    "frictionless: frictionless itself on every table (the slower reference).",
)
@debug_option
def validate(descriptor: Path, fmt: str, engine: str) -> None:
    """Check a data package and report every problem with its file, line and field.

    DESCRIPTOR defaults to datapackage.json. Where a limit cuts the list (at most 1,000 errors
    a table, as frictionless), the report says how many it left out. Exit status: 0 valid
    (warnings allowed), 1 invalid data, 2 usage error, unreadable descriptor or an internal
    error in eurasec (a bug: no report is printed, and --debug shows the traceback).
    """
    from .model.descriptor import DescriptorError
    from .model.text import escape_text
    from .render import append_summary, render, render_markdown_summary
    from .runtime import collector_paused, skip_pandas_probe
    from .validate import validate as run

    skip_pandas_probe()
    try:
        with collector_paused():
            report = run(descriptor, engine=engine)
    except DescriptorError as exc:
        click.echo(f"error: {escape_text(str(exc))}", err=True)
        sys.exit(2)
    click.echo(render(report, fmt), nl=False)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_path:
        # The summary is a courtesy: a path that cannot be written (a folder, a read-only file, a missing
        # folder) is a warning, and the exit status still says only whether the package is valid.
        try:
            append_summary(Path(summary_path), render_markdown_summary(report))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(
                f"warning: the job summary was not written to GITHUB_STEP_SUMMARY"
                f" ({escape_text(summary_path)}): {escape_text(reason)}",
                err=True,
            )
    sys.exit(0 if report.valid else 1)


@cli.command()
@click.argument("document_id")
@click.argument("text")
@descriptor_option("The package whose documents to search.")
def quote(document_id: str, text: str, descriptor: Path) -> None:
    """Find TEXT in a seed document and print the exact quote with its start and end offsets.

    For the passage it prints a line `start,end = S,E`: S,E goes as it is into the row's start and
    end columns (Unicode code points, 0-based, end exclusive, so that the seed's characters S to E
    are the quote). Where the passage occurs more than once, every occurrence gets its own line,
    with the text around it: choose the one your row cites. Where TEXT is not in the seed as typed,
    print the seed's own passage, with the differences marked: the one that differs only in case,
    spacing, dashes or quotes, else the closest one; paste its "exact quote to use". Exit status:
    0 found exactly, 1 not found as typed, 2 unknown document or unreadable package.
    """
    from .contribute.quote import QuoteError, find_quote, render_quote
    from .model.text import escape_text

    try:
        result = find_quote(descriptor, document_id, text)
    except QuoteError as exc:
        click.echo(f"error: {escape_text(str(exc))}", err=True)
        sys.exit(2)
    click.echo(render_quote(result), nl=False)
    sys.exit(0 if result.exact else 1)


@cli.command("add-document")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option(
    "--no-text",
    is_flag=True,
    help="Register a document whose text is not stored (an original of which you hold a copy or a"
    " translation), without FILE: its path, sha256 and bytes stay empty, and no fact may cite it.",
)
@click.option(
    "--id", "document_id", required=True, help="New slug id (lowercase kebab-case); never changes once published."
)
@click.option("--title", required=True, help="Title as it appears in the text.")
@click.option("--author", required=True, help="Author as the text names them.")
@click.option("--publisher", required=True, help="Organization that first published the text.")
@click.option("--republisher", default="", help="Organization whose republished copy FILE is, if not the publisher.")
@click.option(
    "--url", required=True, help="Web address of the copy that FILE reproduces (with --no-text: of the document)."
)
@click.option("--original-url", default="", help="Web address of the original publication, if it differs.")
@click.option(
    "--translation-of",
    default="",
    help="For a translation: the id of the document it translates, which must be registered already"
    " (with --no-text when its text is not stored).",
)
@click.option("--language", required=True, help="Language of the text as an ISO 639-1 code, such as en.")
@click.option(
    "--published-date",
    default="",
    help="YYYY-MM-DD, or YYYY-MM or YYYY when only that is known (sets date_precision); "
    "leave out when the text gives no date: never a guess.",
)
@click.option("--date-note", default="", help="What is known about the date when it is not given exactly.")
@click.option(
    "--retrieved-date",
    default="",
    help="YYYY-MM-DD on which the text was retrieved from --url; leave out when not known: never a guess.",
)
@click.option("--archive-url", default="", help="Address of an archived copy of --url (a Wayback Machine URL, say).")
@click.option(
    "--license-note",
    default=None,
    help="Terms under which the text is held. Default: the standard note for third-party text.",
)
@descriptor_option("The package to add the document to.")
def add_document(
    file: Path | None, no_text: bool, document_id: str, descriptor: Path, license_note: str | None, **fields: str
) -> None:
    """Register FILE as a seed document: copy it byte-exact into seeds/ and add its documents row.

    The seed goes to seeds/<ID>.txt (a file already directly in seeds/ is registered where it is),
    and its sha256, size and path are filled in; the documents table is rewritten in canonical
    form. The text is never changed: a text not in Unicode NFC is stored as is, with a warning.
    Running it again with the same FILE and ID says the text is registered already. With --no-text
    and no FILE, the document is registered without stored text (path, sha256 and bytes empty):
    a source whose copy or translation you cite (give that one --translation-of ID). Nothing is
    written when anything is refused. Exit status: 0 added (warnings allowed), 1 refused (FILE not
    UTF-8, empty or over 64 MiB, the id or the seed path taken, a table that cannot be written),
    2 usage error (a missing or invalid option, FILE missing or not a file, FILE and --no-text both
    or neither given, --translation-of an unknown document, unreadable descriptor).
    """
    from .contribute.add_document import DEFAULT_LICENSE_NOTE, AddDocumentError
    from .contribute.add_document import add_document as run
    from .model.text import escape_text

    if no_text == (file is not None):
        raise click.UsageError(
            "give FILE, the text to store, or --no-text for a document whose text is not stored"
            if file is None
            else "give FILE or --no-text, not both: --no-text registers a document without its text"
        )
    options = {"id": document_id, **fields}
    options["license_note"] = DEFAULT_LICENSE_NOTE if license_note is None else license_note
    try:
        added = run(descriptor, file, options)
    except AddDocumentError as exc:
        for message in exc.messages:  # one problem a line
            click.echo(f"error: {escape_text(message)}", err=True)
        click.echo("nothing was written", err=True)
        sys.exit(exc.status)
    for warning in added.warnings:
        click.echo(f"warning: {escape_text(warning)}", err=True)
    package = "" if str(descriptor) == DESCRIPTOR_NAME else f" {descriptor}"
    flag = "" if str(descriptor) == DESCRIPTOR_NAME else f" --descriptor {descriptor}"
    if not added.has_text:
        click.echo(escape_text(f"added {added.document_id}: registered without stored text, row in {added.table}"))
        click.echo("next:")
        click.echo(
            escape_text(
                f"  eurasec add-document FILE --translation-of {added.document_id} ...{flag}"
                "   # the copy or translation you hold, which facts cite"
            )
        )
        click.echo(escape_text(f"  eurasec validate{package}   # no fact may cite {added.document_id}"))
        return
    where = "copied to" if added.copied else "already at"
    click.echo(
        escape_text(
            f"added {added.document_id}: {where} {added.path} ({added.size:,} bytes, sha256 {added.sha256}),"
            f" row in {added.table}"
        )
    )
    click.echo("next:")
    click.echo(escape_text(f'  eurasec quote {added.document_id} "a passage"{flag}   # the exact quote for a fact row'))
    click.echo(f"  add {escape_text(added.path)} to the licence note in seeds/README.md")
    click.echo(escape_text(f"  eurasec validate{package}   # a document that no fact cites yet is fine"))


@cli.command()
@descriptor_argument
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if any file is not in canonical form.")
def fmt(descriptor: Path, check: bool) -> None:
    """Rewrite the CSV files in canonical form, changing no value.

    UTF-8 without BOM, LF line endings, the schema's header order, quoting only where
    needed, rows sorted by primary key. A file that cannot be parsed is refused and left
    untouched. Exit status: 0 done (or, with --check, nothing to do), 1 a file was refused
    (or, with --check, would change), 2 usage error or unreadable descriptor.
    """
    from .contribute.fmt import format_package
    from .model.descriptor import DescriptorError
    from .model.text import escape_text

    try:
        results = format_package(descriptor, check=check)
    except DescriptorError as exc:
        click.echo(f"error: {escape_text(str(exc))}", err=True)
        sys.exit(2)
    verb = "would reformat" if check else "reformatted"
    for result in results:
        if result.refused:
            click.echo(escape_text(f"refused {result.file}: {result.refused} (the file is left as it was)"))
        elif result.changed:
            click.echo(f"{verb} {escape_text(result.file)}")
    refused = sum(1 for r in results if r.refused)
    changed = sum(1 for r in results if r.changed)
    done = "to reformat" if check else "reformatted"
    click.echo(f"{changed} {done}, {refused} refused, {len(results) - changed - refused} already canonical")
    sys.exit(1 if refused or (check and changed) else 0)


@cli.command()
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="New folder for the migrated package (must not exist, or be empty).",
)
@descriptor_option("The package whose layout to migrate into (its descriptor is copied).")
def migrate(old: Path, out: Path, descriptor: Path) -> None:
    """Write the rows of OLD, a 1.x package (its datapackage.json), in the current layout into --out.

    Each entity's citation moves into its citations table, and every quote gains the offsets of its
    occurrence in the seed: the first, where it occurs more than once, and each such row is listed to
    be read and confirmed. No citation is lost. Then `eurasec diff OUT .` shows exactly what the
    curation changed since. Nothing is written unless the whole migration succeeds. Exit status: 0
    migrated, 1 refused (a quote not in its seed, --out not empty), 2 usage error.
    """
    from .contribute.migrate import MigrationError
    from .contribute.migrate import migrate as run_migration
    from .model.descriptor import DescriptorError
    from .model.text import escape_text

    try:
        result = run_migration(old, out, descriptor)
    except DescriptorError as exc:
        click.echo(f"error: {escape_text(str(exc))}", err=True)
        sys.exit(2)
    except MigrationError as exc:
        click.echo(f"refused: {escape_text(str(exc))} (nothing was written)", err=True)
        sys.exit(1)
    for ambiguous in result.ambiguous:
        starts = ", ".join(map(str, ambiguous.starts))
        click.echo(
            escape_text(
                f"{ambiguous.file}:{ambiguous.line}: the quote occurs {len(ambiguous.starts)} times"
                f" (at {starts}); the first was taken: confirm it"
            )
        )
    rows = sum(result.rows.values())
    click.echo(f"migrated {rows} rows in {len(result.rows)} tables into {escape_text(str(out))}")


@cli.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for the terminal, markdown for a pull-request comment, json for programs.",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The git repository in which OLD and NEW are revisions.",
)
def diff(old: str, new: str, fmt: str, repo: Path) -> None:
    """Show what changed in the data between OLD and NEW.

    OLD and NEW are each a git revision (HEAD, main, a sha) or a folder with a datapackage.json:
    a checkout or a release folder. For every table: rows added, removed and changed (keyed by
    primary key, each changed field as old → new), and schema changes with a note on whether
    they break the major version. Exit status: 0 compared, 2 an OLD or NEW that cannot be read.
    """
    from .contribute.diff import RENDERERS, DiffError, load_side
    from .contribute.diff import diff as compare
    from .model.text import escape_text

    try:
        result = compare(load_side(old, repo), load_side(new, repo))
    except DiffError as exc:
        click.echo(f"error: {escape_text(str(exc))}", err=True)
        sys.exit(2)
    click.echo(RENDERERS[fmt](result), nl=False)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@cli.command()
@descriptor_argument
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build"),
    show_default=True,
    help="Folder in which the release folder <name>-<version>/ is written.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr; only the summary.")
@debug_option
def build(descriptor: Path, out: Path, quiet: bool) -> None:
    """Validate, then write a release: Parquet, SQLite, descriptor, Datasette metadata, CSV zip, SHA256SUMS.

    Nothing is written when the data is invalid (the validation report is shown instead) or when
    a name or file would lead outside its folder. The new release replaces the previous one in one
    atomic step: a failed or interrupted build leaves the previous release untouched, and builds
    into the same --out take turns. Exit status: 0 built, 1 invalid data or a refused build, 2
    usage error, unreadable descriptor or an internal error (a bug in eurasec, in validation or in a
    release that fails its own checks; --debug shows the traceback), 130 interrupted.
    """
    import sqlite3

    from .build import BuildError, BuildInterrupted, SwapError, build_release
    from .build.context import ExportCheckError
    from .build.release import BuildUnsupportedError
    from .model.descriptor import DescriptorError
    from .model.paths import UnsafePathError
    from .model.text import escape_text
    from .render import render_text
    from .runtime import collector_paused, skip_pandas_probe

    skip_pandas_probe()

    progress = None if quiet else (lambda message: click.echo(f"build: {message}", err=True))
    try:
        with collector_paused():
            result = build_release(descriptor, out, progress=progress)
    except DescriptorError as exc:
        click.echo(f"error: {escape_text(str(exc))}", err=True)
        sys.exit(2)
    except BuildError as exc:
        click.echo(render_text(exc.report), nl=False)
        click.echo("error: the package is invalid, so nothing was built", err=True)
        sys.exit(1)
    except (UnsafePathError, BuildUnsupportedError) as exc:
        click.echo(f"error: the build was refused, and nothing was changed: {escape_text(str(exc))}", err=True)
        sys.exit(1)
    except BuildInterrupted as exc:
        click.echo(f"interrupted: {escape_text(str(exc.state))}", err=True)
        sys.exit(130)
    except KeyboardInterrupt:  # before the build began
        click.echo("interrupted: nothing was changed", err=True)
        sys.exit(130)
    except SwapError as exc:  # its message says where each release is
        click.echo(f"error: the build failed: {escape_text(str(exc))}", err=True)
        sys.exit(1)
    except (OSError, sqlite3.Error) as exc:  # a full disk, an unwritable folder
        click.echo(f"error: the build failed and nothing was changed: {escape_text(str(exc))}", err=True)
        sys.exit(1)
    except ExportCheckError as exc:
        click.echo(f"error: the build failed and nothing was changed: {escape_text(str(exc))}", err=True)
        click.echo("This is a fault in eurasec, not in the data: please report it with this message.", err=True)
        sys.exit(2)  # only bad data exits 1
    rows = sum(result.rows.values())
    click.echo(
        f"built {result.folder}: {len(result.rows)} tables, {rows} rows, "
        f"{len(result.files)} files, {_size(result.total_bytes)}"
    )
    for name, size in sorted(result.files.items()):
        click.echo(f"  {name:<40} {_size(size):>10}")


def main() -> None:
    cli()
