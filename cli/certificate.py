"""``huiyan certificate verify``: check an award certificate, offline by default.

It needs no account and no database: the certificate carries its evidence, and the ledger's
public verifier keys (``--keys``, or this instance's) are all it trusts. ``--against-ledger``
also asks the ledger at hand whether it holds that entry.

Exit status: 0 valid, 1 not valid (the problems are listed), 2 unusable input (one line on
stderr: no such file, not a certificate, no keys, no ledger).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa

from audit.certificates import (
    Certificate,
    CertificateInvalid,
    check_certificate,
    ledger_problems,
    read_certificate,
)
from ledger.cli import require_database
from ledger.keys import LedgerKeyError, VerifierKey, read_verifier_keys
from ledger.ledger import Ledger, LedgerError, engine_for, keyring_for
from ledger.settings import Settings, SettingsError, check_database_url
from services.uploads import read_at_most

# A certificate is a few kilobytes; a bigger file is not one (and is not read whole).
MAX_CERTIFICATE_BYTES = 4 << 20
MAX_KEYS_BYTES = 1 << 20

UNUSABLE = (CertificateInvalid, LedgerError, LedgerKeyError, SettingsError)


@click.group()
def certificate() -> None:
    """Award certificates: check one offline."""


@certificate.command("verify")
@click.argument("pdf_file", metavar="FILE.pdf", type=click.Path(path_type=Path))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(path_type=Path),
    help="Trusted verifier keys (from `huiyan ledger keys`) instead of HUIYAN_HOME's.",
)
@click.option(
    "--against-ledger",
    is_flag=True,
    help="Also check that this instance's ledger holds the entry at the certificate's position.",
)
@click.option("--database-url", help="With --against-ledger: the ledger to read.")
def verify(
    pdf_file: Path, keys_file: Path | None, against_ledger: bool, database_url: str | None
) -> None:
    """Check FILE.pdf: its checkpoint is signed by a trusted ledger key and its proof puts the
    award's entry in that checkpoint's tree. Exit 0 valid, 1 not valid, 2 unusable input."""
    try:
        found = read_certificate(_read(pdf_file, "certificate", MAX_CERTIFICATE_BYTES))
        problems = check_certificate(found, trusted_keys=_trusted_keys(keys_file))
        if against_ledger:
            problems += _against_ledger(found, database_url)
    except UNUSABLE as error:
        click.echo(f"error: {_named(error, pdf_file)}", err=True)
        sys.exit(2)
    _print_facts(found)
    _print_verdict(problems)
    sys.exit(1 if problems else 0)


def _named(error: Exception, pdf_file: Path) -> str:
    """A certificate's refusal names the file; other refusals name what they are about."""
    return f"{pdf_file}: {error}" if isinstance(error, CertificateInvalid) else str(error)


def _read(path: Path, what: str, limit: int) -> bytes:
    try:
        data = read_at_most(path, limit)
    except OSError as error:
        raise LedgerError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if len(data) > limit:
        raise CertificateInvalid(f"larger than {limit >> 20} MiB: not a certificate")
    return data


def _trusted_keys(keys_file: Path | None) -> dict[str, VerifierKey]:
    """The keys given with --keys, else every verifier key this instance has signed with."""
    if keys_file is None:
        trusted = keyring_for(Settings.from_env()).verifier_keys()
    else:
        data = _read(keys_file, "--keys", MAX_KEYS_BYTES)
        try:
            trusted = read_verifier_keys(data.decode().splitlines())
        except UnicodeDecodeError:
            raise LedgerKeyError(f"--keys {keys_file} is not UTF-8 text") from None
    if not trusted:
        raise LedgerKeyError("no verifier keys: pass --keys FILE (from `huiyan ledger keys`)")
    return trusted


def _against_ledger(found: Certificate, database_url: str | None) -> list[str]:
    """Read-only (``create=False``): checking a certificate writes nothing, not even a table."""
    settings = Settings.from_env()
    url = database_url or settings.database_url
    check_database_url(url, "--database-url")
    require_database(url)
    engine = engine_for(url)
    try:
        ledger = Ledger(engine, keyring_for(settings), settings.events_table, create=False)
        return ledger_problems(found, ledger)
    except sa.exc.SQLAlchemyError as error:
        raise LedgerError(f"cannot read the ledger: {type(error).__name__}") from None
    finally:
        engine.dispose()


def _print_facts(found: Certificate) -> None:
    evidence = found.evidence
    head = evidence.checkpoint.split("\n")
    rows = [
        ("contest", f"{found.contest['zh']} / {found.contest['en']}"),
        ("track", f"{found.track} {found.track_name}"),
        ("team", found.team_name),
        ("award", f"{found.award['zh']} / {found.award['en']}"),
        ("rank", str(found.rank)),
        ("final score", repr(found.final_score)),
        ("awarded at", found.awarded_at.isoformat()),
        ("position", str(evidence.position)),
        ("leaf hash", evidence.leaf_hash),
        ("checkpoint", " ".join(head[:3])),
    ]
    for name, value in rows:
        click.echo(f"{name:<12}{value}")


def _print_verdict(problems: list[str]) -> None:
    if not problems:
        click.echo("valid")
        return
    click.echo("NOT VALID")
    for problem in problems:
        click.echo(f"  {problem}")
