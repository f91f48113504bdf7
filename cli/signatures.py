"""``huiyan signatures verify`` and ``huiyan access-log``: the auditors' commands.

``signatures verify`` needs no account: anyone holding the ledger's rows can check a personal
signature (the public keys are in the ledger). ``access-log`` is for the audit administrator
alone, and reading it is itself recorded.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from uuid import UUID

import click
import sqlalchemy as sa

from audit.signatures import verify_one
from cli.common import print_json, refusals_on_one_line, signed_in
from domain.accounts import Role
from domain.errors import DomainError, SignatureInvalid
from domain.signatures import Manifest
from domain.time import SHANGHAI
from ledger.cli import require_database
from ledger.ledger import LedgerError
from ledger.settings import Settings
from services.desk import Desk


@click.group()
def signatures() -> None:
    """Personal signatures: check one offline."""


# Who may see a signer's printed name (the manifest itself names only the account).
NAME_READERS = (
    Role.ORGANISER,
    Role.ARBITRATOR,
    Role.COMPLIANCE_OFFICER,
    Role.AUDIT_ADMINISTRATOR,
)


@signatures.command("verify")
@click.argument("position", type=click.IntRange(min=0))
@click.option("--database-url", help="The ledger to read (default: this instance's).")
@click.option(
    "--show-name",
    is_flag=True,
    help="Also print the signer's printed name (signed-in organiser, arbitrator, compliance "
    "officer or audit administrator; the read is in the access log).",
)
def signatures_verify(position: int, database_url: str | None, show_name: bool) -> None:
    """Check the personal signature of the entry at POSITION with the signer's public key
    as the ledger recorded it; exit 0 when it verifies, 1 when not, 2 when there is none."""
    settings = Settings.from_env()
    url = database_url or settings.database_url
    try:
        require_database(url)
        manifest = verify_one(url, settings.events_table, position)
    except SignatureInvalid as error:
        click.echo(f"position {position}: NOT VERIFIED: {error.message('en')}")
        sys.exit(1)
    except (LookupError, LedgerError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except sa.exc.SQLAlchemyError as error:
        click.echo(f"error: cannot read the ledger: {type(error).__name__}", err=True)
        sys.exit(2)
    click.echo(
        f"position {position}: verified: {manifest.meaning} by {manifest.signer} "
        f"(key {manifest.key_id}) at {manifest.at}"
    )
    if show_name:
        printed_name(manifest)


@refusals_on_one_line
def printed_name(manifest: Manifest) -> None:
    """The signer's printed name, unsealed for those entitled (the read is recorded)."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = UUID(manifest.signer)
    try:
        acting.require(*NAME_READERS, action="read a signer's name")
    except DomainError:
        desk.record_access(acting, "read.person_name", signer, "refused")
        raise
    if manifest.name is None:
        click.echo("printed name: (none recorded)")
        return
    record = json.loads(desk.vault.open_from(desk.blobs, signer, manifest.name))
    desk.record_access(acting, "read.person_name", signer, "ok")
    click.echo(f"printed name: {record['name']}")


@click.command("access-log")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]))
@click.option("--who", help="An account id.")
@click.option("--what", help="An action, or its beginning (e.g. read. or admin.).")
@refusals_on_one_line
def access_log(since: datetime | None, who: str | None, what: str | None) -> None:
    """The access log, oldest first (audit administrator only). There is no command to
    delete an entry or to switch the log off."""
    desk = Desk.open()
    actor = signed_in(desk)
    actor.require(Role.AUDIT_ADMINISTRATOR, action="read the access log")
    when = since.replace(tzinfo=SHANGHAI) if since and since.tzinfo is None else since
    print_json(desk.auth.access.entries(since=when, who=who, what=what))
