"""``huiyan ledger ...``: checkpoints, keys, proofs and verification for operators and auditors.

Errors print one line and exit 2; ``verify`` exits 1 when the ledger is not intact.
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.application import open_application
from ledger.checkpoint import CheckpointError, parse_note
from ledger.key_history import KeyHistory
from ledger.keys import Keyring, LedgerKeyError, read_verifier_keys
from ledger.ledger import Ledger, LedgerError, engine_for, keyring_for
from ledger.merkle import ProofError
from ledger.persistence import DEFAULT_EVENTS_TABLE
from ledger.settings import Settings, SettingsError, check_database_url
from ledger.verify import verify_ledger

OPERATOR_ERRORS = (LedgerError, LedgerKeyError, CheckpointError, SettingsError, ProofError)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors an operator can act on into one line on stderr and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OPERATOR_ERRORS as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)

    return wrapper


def settings_now(settings: Settings) -> datetime:
    return settings.clock or datetime.now(UTC)


def require_database(url: str) -> None:
    """Refuse a SQLite path that does not exist instead of silently creating an empty file."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if not path.is_file():
            raise LedgerError(f"no ledger database at {path}")


def open_ledger(database_url: str | None = None) -> tuple[Settings, Ledger]:
    settings = Settings.from_env()
    url = database_url or settings.database_url
    check_database_url(url, "--database-url")
    require_database(url)
    return settings, Ledger.from_settings(dataclasses.replace(settings, database_url=url))


@click.group()
def ledger() -> None:
    """The signed, hash-chained, Merkle-proven event ledger."""


@ledger.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the signed note.")
@one_line_errors
def checkpoint(as_json: bool) -> None:
    """Sign the current tree head (C2SP tlog-checkpoint) and keep it."""
    settings, the_ledger = open_ledger()
    signed = the_ledger.issue_checkpoint(settings_now(settings))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "tree_size": signed.checkpoint.tree_size,
                    "root_hash": signed.checkpoint.root_hash.hex(),
                    "key_id": signed.key_id,
                    "note": signed.note,
                }
            )
        )
    else:
        click.echo(signed.note, nl=False)


@ledger.command()
@click.option("--rotate", is_flag=True, help="Make a new signing key; old public keys stay.")
@click.option("--reason", default="", help="Why the key is rotated (required with --rotate).")
@one_line_errors
def keys(rotate: bool, reason: str) -> None:
    """Print the ledger's public verifier keys (C2SP vkey lines), oldest first."""
    settings = Settings.from_env()
    keyring = keyring_for(settings)
    if rotate:
        if not reason.strip():
            raise LedgerError("a key rotation is recorded with its reason: give --reason")
        record_rotation(settings, keyring, reason.strip())
    verifiers = keyring.verifier_keys()
    if not verifiers:
        raise LedgerError(f"no ledger keys in {keyring.folder} (none is made until first use)")
    for verifier in verifiers.values():
        click.echo(verifier.encode())


def record_rotation(settings: Settings, keyring: Keyring, reason: str) -> None:
    """Rotate, then record the rotation in the ledger, signed by the new key."""
    from eventsourcing.application import AggregateNotFoundError, Application

    retired = keyring.signing_key().key_id if keyring.verifier_keys() else None
    new = keyring.rotate()
    app = open_application(Application, settings)
    try:
        history = app.repository.get(KeyHistory.create_id(settings.origin))
    except AggregateNotFoundError:
        history = KeyHistory(settings.origin)
    history.rotated(retired, new.key_id, getpass.getuser(), reason, settings_now(settings))
    app.save(history)
    click.echo(f"# new active key {new.key_id}", err=True)


@ledger.command()
@click.argument("position", type=int)
@click.option("--json", "as_json", is_flag=True)
@one_line_errors
def proof(position: int, as_json: bool) -> None:
    """Prove that the entry at POSITION is in the latest checkpoint."""
    _, the_ledger = open_ledger()
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


@ledger.command()
@click.option("--database-url", help="Verify this database instead of HUIYAN_DATABASE_URL.")
@click.option(
    "--checkpoint",
    "kept",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A checkpoint you kept earlier; the ledger must still contain it.",
)
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trusted verifier keys (from `huiyan ledger keys`) instead of HUIYAN_HOME's.",
)
@click.option("--workers", type=int, default=None, help="Processes for signature checks.")
@click.option("--json", "as_json", is_flag=True)
@one_line_errors
def verify(
    database_url: str | None,
    kept: tuple[Path, ...],
    keys_file: Path | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Re-derive and check every entry, signature, link, root and checkpoint."""
    settings = Settings.from_env()
    url = database_url or settings.database_url
    check_database_url(url, "--database-url")
    require_database(url)
    if keys_file is not None:
        trusted = read_verifier_keys(keys_file.read_text().splitlines())
    else:
        trusted = keyring_for(settings).verifier_keys()
    if not trusted:
        raise LedgerError("no verifier keys: pass --keys FILE (from `huiyan ledger keys`)")
    the_ledger = Ledger(engine_for(url), keyring_for(settings), create=False)
    checkpoints = []
    latest = the_ledger.latest_checkpoint(trusted)
    if latest is not None:
        checkpoints.append(latest)
    checkpoints += [parse_note(path.read_text(), trusted) for path in kept]
    report = verify_ledger(url, DEFAULT_EVENTS_TABLE, trusted, checkpoints, workers)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    elif report.intact:
        click.echo(
            f"intact: {report.size} entries, root {report.root_hash}, "
            f"checkpoints checked at sizes {report.checkpoints_checked or 'none'}"
        )
    else:
        click.echo(f"NOT INTACT: first bad position {report.first_bad_position}")
        for problem in report.problems:
            where = "-" if problem.position is None else problem.position
            click.echo(f"  position {where}: {problem.kind}: {problem.detail}")
    sys.exit(0 if report.intact else 1)
