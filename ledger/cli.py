"""``huiyan ledger ...``: checkpoints, keys, proofs and verification for operators and auditors.

Errors print one line and exit 2; ``verify`` exits 0 when intact, 1 when not (with the
report) and 2 when it cannot do its job (unusable input or an internal error).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import click

from audit.access_log import access_settings
from ledger.checkpoint import CheckpointError, SignedCheckpoint, note_parts, parse_note
from ledger.console import one_line_errors as _one_line_errors
from ledger.console import progress_display
from ledger.cosignature import read_witness_keys
from ledger.keys import LedgerKeyError, VerifierKey, read_verifier_keys
from ledger.ledger import Ledger, LedgerError, engine_for, keyring_for
from ledger.merkle import ProofError
from ledger.report import KINDS, Problem, Report
from ledger.settings import Settings, SettingsError, check_database_url
from ledger.verify import VerifyInputError, verify_ledger
from ledger.witness_audit import witness_problems
from ledger.witness_protocol import AddCheckpoint
from ledger.witnesses import WitnessOutcome

OPERATOR_ERRORS = (
    LedgerError,
    LedgerKeyError,
    CheckpointError,
    SettingsError,
    ProofError,
    VerifyInputError,
)


Quorum = tuple[dict[str, VerifierKey], int]  # witness keys, how many must have cosigned


one_line_errors = _one_line_errors(*OPERATOR_ERRORS)


def require_database(url: str) -> None:
    """Refuse a SQLite path that does not exist instead of silently creating an empty file."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if not path.is_file():
            raise LedgerError(f"no ledger database at {path}")


STREAMS = ("contest", "access")

stream_option = click.option(
    "--stream",
    type=click.Choice(STREAMS),
    default="contest",
    show_default=True,
    help="The contest's history, or the access log (its own table, checkpoints and key).",
)


def stream_settings(stream: str) -> Settings:
    """The settings of one stream: the access log's come from audit.access_log, so that the
    writer and these commands agree on its table, key folder and checkpoint origin."""
    settings = Settings.from_env()
    return access_settings(settings) if stream == "access" else settings


def open_ledger(
    database_url: str | None = None, stream: str = "contest"
) -> tuple[Settings, Ledger]:
    settings = stream_settings(stream)
    url = database_url or settings.database_url
    check_database_url(url, "--database-url")
    require_database(url)
    return settings, Ledger.from_settings(dataclasses.replace(settings, database_url=url))


@click.group()
def ledger() -> None:
    """The signed, hash-chained, Merkle-proven event ledger."""


@ledger.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the signed note.")
@click.option(
    "--rebuild-tree",
    is_flag=True,
    help="Rebuild the Merkle cache from the events first (after it was found edited).",
)
@stream_option
@one_line_errors
def checkpoint(as_json: bool, rebuild_tree: bool, stream: str) -> None:
    """Sign the tree head derived from the events (C2SP tlog-checkpoint), keep it, and have
    the witnesses of HUIYAN_WITNESSES cosign it.

    The head extends the last checkpoint by the leaves re-derived from the entries appended
    since, each one's signature, link and key checked; nothing is signed when they or the
    Merkle cache disagree. Prints the note with the cosignatures kept for it; a witness that
    fails is named on stderr and withholds nothing.
    """
    settings, the_ledger = open_ledger(stream=stream)
    outcomes: list[WitnessOutcome] = []
    report = outcomes.append if as_json else _echo_outcome
    signed = the_ledger.issue_checkpoint(settings.now(), rebuild_tree=rebuild_tree, report=report)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "tree_size": signed.checkpoint.tree_size,
                    "root_hash": signed.checkpoint.root_hash.hex(),
                    "key_id": signed.key_id,
                    "note": the_ledger.cosigned_note(signed),
                    "witnesses": [
                        {"witness": o.endpoint.key.encode(), "url": o.endpoint.url}
                        | ({"failure": o.failure} if o.failure else {"cosigned": True})
                        for o in outcomes
                    ],
                }
            )
        )
    else:
        click.echo(the_ledger.cosigned_note(signed), nl=False)


def _echo_outcome(outcome: WitnessOutcome) -> None:
    click.echo(outcome.describe(), err=True)


@ledger.command()
@click.argument("old_size", type=click.IntRange(min=0))
@stream_option
@one_line_errors
def consistency(old_size: int, stream: str) -> None:
    """Print the consistency proof from OLD_SIZE to the latest checkpoint, as a witness reads
    it ('old <size>' and one base64 hash a line): the --proof of `huiyan audit witness
    cosign`, with the checkpoint from `huiyan ledger checkpoint`."""
    _, the_ledger = open_ledger(stream=stream)
    latest = the_ledger.latest_checkpoint()
    if latest is None:
        raise LedgerError("no checkpoint yet: run `huiyan ledger checkpoint` first")
    if old_size > latest.checkpoint.tree_size:
        raise LedgerError(
            f"size {old_size} is beyond the latest checkpoint's {latest.checkpoint.tree_size}"
        )
    proof = the_ledger.consistency_proof_from(old_size, latest)
    click.echo(AddCheckpoint(old_size, proof, latest.note).proof_text(), nl=False)


@ledger.command()
@click.option(
    "--check",
    is_flag=True,
    help="Only say where the schema stands: exit 0 at this release's head, 1 when behind.",
)
@one_line_errors
def migrate(check: bool) -> None:
    """Bring the database of HUIYAN_DATABASE_URL to this release's schema (back it up first).

    A database of the release before migrations is checked column by column and recorded as
    the baseline; an empty one gets the whole schema. One transaction: a refused revision
    changes nothing. Services refuse to start until this has run (docs/migrations.md)."""
    from ledger.migrations import run

    url = Settings.from_env().database_url
    if check:
        require_database(url)
        state = run.state_of(url)
        click.echo(state.describe())
        if state.kind != run.CURRENT:
            sys.exit(2 if state.kind == run.UNKNOWN else 1)
        return
    before, after = run.migrate(url)
    click.echo(
        {
            run.CURRENT: f"the database is at revision {after.current}, this release's head: "
            "nothing to do",
            run.EMPTY: f"made the schema at revision {after.current} in the empty database",
            run.UNVERSIONED: "recognised the schema of the release before migrations, recorded "
            f"it as revision {run.BASELINE} and migrated it to {after.current}",
            run.BEHIND: f"migrated the database from revision {before.current} to {after.current}",
        }[before.kind]
    )


@ledger.command()
@stream_option
@one_line_errors
def keys(stream: str) -> None:
    """Print the ledger's public verifier keys (C2SP vkey lines), oldest first. Rotating or
    revoking a key is an organiser's signed decision: `huiyan keys rotate|revoke`."""
    settings = stream_settings(stream)
    keyring = keyring_for(settings)
    verifiers = keyring.verifier_keys()
    if not verifiers:
        raise LedgerError(f"no ledger keys in {keyring.folder} (none is made until first use)")
    for verifier in verifiers.values():
        click.echo(verifier.encode())


@ledger.command()
@click.argument("position", type=int)
@click.option("--json", "as_json", is_flag=True)
@stream_option
@one_line_errors
def proof(position: int, as_json: bool, stream: str) -> None:
    """Prove that the entry at POSITION is in the latest checkpoint."""
    _, the_ledger = open_ledger(stream=stream)
    result = the_ledger.inclusion_proof(position)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
        return
    click.echo(f"position   {result.position}")
    click.echo(f"leaf hash  {result.leaf_hash.hex()}")
    click.echo(f"tree size  {result.tree_size}")
    for level, node in enumerate(result.path):
        click.echo(f"path[{level}]    {node.hex()}")
    click.echo(result.checkpoint_note, nl=False)


VERIFY_HELP = f"""Re-derive and check every entry, signature, link, key, root and checkpoint.

\b
Exit status:
  0  intact
  1  not intact: the report names each problem, its kind and its first position
  2  cannot verify: unusable input (no such database, a database file that cannot be
     read, a --keys or --checkpoint file that does not parse) or an internal error;
     one line on stderr (--debug shows the traceback)

\b
Kinds of problem: {", ".join(KINDS)}.
Everything stored in the database (rows, checkpoints, the Merkle cache) is evidence: what
is wrong there is reported, never a reason to stop.

\b
Witnesses: with --witness-key (repeatable), the newest checkpoint given with --checkpoint
(else the newest stored one) must carry at least --witnesses valid cosignatures by those
keys (default: all of them), from the file or kept beside it; kind "witnesses" otherwise.

\b
Limits: entries appended after the newest checkpoint you kept (or a witness cosigned) can
be removed from the end without trace, and a thief of the active key can rewrite
everything after it; keep checkpoints outside the database, and rotate (then revoke) a
key you suspect. See docs/ledger.md.
"""


@ledger.command(help=VERIFY_HELP)
@click.option("--database-url", help="Verify this database instead of HUIYAN_DATABASE_URL.")
@click.option(
    "--checkpoint",
    "kept",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="A checkpoint you kept earlier; the ledger must still contain it.",
)
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trusted verifier keys (from `huiyan ledger keys`) instead of HUIYAN_HOME's.",
)
@click.option(
    "--witness-key",
    "witness_keys",
    multiple=True,
    help="A witness's verifier key (vkey line, signature type 0x04) whose cosignature counts.",
)
@click.option(
    "--witnesses",
    "required",
    type=click.IntRange(min=1),
    help="How many of the --witness-key witnesses must have cosigned (default: all).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option(
    "--no-signatures",
    is_flag=True,
    help="Check hashes, links, keys' windows and roots only (a fast nightly pass).",
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.option(
    "--record",
    is_flag=True,
    help="Keep this run with the web's verifications (the compliance page and the metrics "
    "show the last one): for the nightly verification.",
)
@stream_option
def verify(
    database_url: str | None,
    kept: tuple[Path, ...],
    keys_file: Path | None,
    witness_keys: tuple[str, ...],
    required: int | None,
    workers: int | None,
    no_signatures: bool,
    as_json: bool,
    debug: bool,
    record: bool,
    stream: str,
) -> None:
    keep = _kept_nowhere
    try:
        settings = Settings.from_env()
        if record:
            keep = _keeper(settings, stream, database_url)
        quorum = _quorum(witness_keys, required)
        with progress_display(as_json=as_json) as bar:
            task = bar.add_task("verify", total=None)
            report = verify_stream(
                settings,
                database_url,
                kept,
                keys_file,
                workers,
                not no_signatures,
                stream,
                progress=lambda done, size: bar.update(task, completed=done, total=size),
                quorum=quorum,
            )
    except OPERATOR_ERRORS as error:
        keep(error=str(error))
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except Exception as error:  # noqa: BLE001 - exit 2 must mean "could not verify"
        if debug:
            traceback.print_exc()
        keep(error=f"internal error: {type(error).__name__}")
        click.echo(f"error: internal error while verifying: {type(error).__name__}", err=True)
        sys.exit(2)
    keep(report=report)
    _print_report(report, as_json)
    sys.exit(0 if report.intact else 1)


def _kept_nowhere(report: Report | None = None, error: str = "") -> None:
    """Without --record, a run is kept nowhere."""


def _keeper(settings: Settings, stream: str, database_url: str | None) -> Callable[..., None]:
    """What keeps this run's outcome in the record of verifications (services/verification.py,
    the one record the compliance pages and the metrics read)."""
    if database_url is not None:
        raise LedgerError("--record keeps runs of this instance's ledger, not of --database-url")
    from services.verification import Verifications

    record = Verifications(settings)
    try:  # a verdict that cannot be kept is found before the work, not after it
        record.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=record.folder):
            pass
    except OSError as error:
        raise LedgerError(
            f"--record cannot write the verdict to {record.folder} ({error.strerror})"
        ) from None
    started = settings.now()

    def keep(report: Report | None = None, error: str = "") -> None:
        try:
            record.record(
                stream,
                who="huiyan ledger verify",
                role="operator",
                started=started,
                report=report,
                error=error,
            )
        except OSError as failure:
            click.echo(f"error: the verdict could not be recorded ({failure.strerror})", err=True)
            sys.exit(2)

    return keep


def verify_stream(
    base: Settings,
    database_url: str | None = None,
    kept: tuple[Path, ...] = (),
    keys_file: Path | None = None,
    workers: int | None = None,
    signatures: bool = True,
    stream: str = "contest",
    progress: Callable[[int, int], None] | None = None,
    quorum: Quorum | None = None,
) -> Report:
    """The whole check of ``huiyan ledger verify`` on one stream of the instance ``base``
    describes; the web's verification (services/verification.py) runs exactly this."""
    settings = access_settings(base) if stream == "access" else base
    url = database_url or settings.database_url
    check_database_url(url, "--database-url")
    require_database(url)
    if keys_file is not None:
        trusted = read_verifier_keys(_text_of(keys_file, "--keys").splitlines())
    else:
        trusted = keyring_for(settings).verifier_keys()
    if not trusted:
        raise LedgerError("no verifier keys: pass --keys FILE (from `huiyan ledger keys`)")
    checkpoints = [_kept_checkpoint(path, trusted) for path in kept]
    report = verify_ledger(
        url,
        trusted,
        checkpoints,
        table=settings.events_table,
        workers=workers,
        signatures=signatures,
        progress=progress,
    )
    if signatures and stream == "contest":
        # The people's own signatures: the one check that knows what an account is, so it
        # lives in audit/ (docs/architecture.md).
        from audit.signatures import personal_signature_problems

        report.add(personal_signature_problems(url, settings.events_table))
    if quorum is not None:
        report.add(_cosignature_problems(url, settings, trusted, checkpoints, *quorum))
    return report


def _quorum(lines: tuple[str, ...], required: int | None) -> Quorum | None:
    """(witness keys, how many must have cosigned), or None when no witness key is given."""
    keys = read_witness_keys(lines)
    if not keys:
        if required is not None:
            raise LedgerError("--witnesses needs the witnesses' keys: --witness-key VKEY ...")
        return None
    if required is not None and required > len(keys):
        raise LedgerError(f"--witnesses {required} needs as many --witness-key, not {len(keys)}")
    return keys, len(keys) if required is None else required


def _cosignature_problems(
    url: str,
    settings: Settings,
    trusted: dict[str, VerifierKey],
    kept: list[SignedCheckpoint],
    witness_keys: dict[str, VerifierKey],
    required: int,
) -> list[Problem]:
    """Cosignatures on the newest kept checkpoint (its file's lines and those the ledger
    keeps beside it), else on the newest valid stored one."""
    engine = engine_for(url)
    try:
        the_ledger = Ledger(engine, keyring_for(settings), settings.events_table, create=False)
        if kept:
            target = max(kept, key=lambda signed: signed.checkpoint.tree_size)
            lines = note_parts(target.note)[1]
        else:
            target = the_ledger.latest_checkpoint(trusted)
            lines = []
        if target is not None:
            lines += the_ledger.cosignature_store.lines(target)
    finally:
        engine.dispose()
    return witness_problems(target, lines, witness_keys, required)


def _text_of(path: Path, option: str) -> str:
    try:
        return path.read_bytes().decode()
    except OSError as error:
        raise LedgerError(f"{option} {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise LedgerError(f"{option} {path} is not UTF-8 text") from None


def _kept_checkpoint(path: Path, trusted: dict[str, VerifierKey]) -> SignedCheckpoint:
    try:
        return parse_note(_text_of(path, "--checkpoint"), trusted)
    except CheckpointError as error:
        raise LedgerError(f"--checkpoint {path}: {error}") from None


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    if report.intact:
        what = "entries" if report.signatures_checked else "entries (signatures not checked)"
        click.echo(
            f"intact: {report.size} {what}, root {report.root_hash}, "
            f"checkpoints checked at sizes {report.checkpoints_checked or 'none'}"
        )
        return
    click.echo(f"NOT INTACT: first bad position {report.first_bad_position}")
    for problem in report.problems:
        where = "-" if problem.position is None else problem.position
        click.echo(f"  position {where}: {problem.kind}: {problem.detail}")
        for note in problem.notes:
            click.echo("    " + note.replace("\n", "\n    ").rstrip())
    if report.problems_left_out:
        click.echo(f"  ... and {report.problems_left_out} more problems")
