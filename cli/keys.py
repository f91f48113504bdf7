"""``huiyan keys rotate|revoke``: the ledger's key changes as an organiser's signed decisions.

The ledger does the act (ledger/rotation.py: a handover signed by both keys, or a
revocation); the organiser's personal signature records who decided it and why
(domain/key_decisions.py). Password and code are checked before the act, so a wrong password
changes nothing; the signed decision is recorded right after it.
"""

from __future__ import annotations

import click

from cli.common import read_password, refusals_on_one_line, signed_in, signing_options
from domain.accounts import Actor, Role
from domain.signatures import Signer
from ledger import rotation
from ledger.cli import stream_option, stream_settings
from services.desk import Desk
from services.signin import cli_origin


@click.group()
def keys() -> None:
    """Rotate or revoke the ledger's signing key (an organiser's signed decision)."""


def _organiser_signer(desk: Desk, password_stdin: bool, code: str | None) -> tuple[Actor, Signer]:
    """The signed-in organiser and their signer, password (and code) proved now."""
    acting = signed_in(desk)
    acting.require(Role.ORGANISER, action="change the ledger's keys")
    account = desk.app.account(acting.account_id)
    password = read_password(password_stdin, prompt="Password (to sign)", confirm=False)
    if account.second_factor and not code:
        code = click.prompt("TOTP code")
    signer = desk.auth.signer(account, password, code, origin=cli_origin(), now=desk.now)
    return acting, signer


def _reason(reason: str) -> str:
    if not reason.strip():
        raise click.UsageError("a key change is recorded with its reason: give --reason")
    return reason.strip()


@keys.command("rotate")
@click.option("--reason", default="", help="Why (recorded, required).")
@stream_option
@signing_options
@refusals_on_one_line
def keys_rotate(reason: str, stream: str, password_stdin: bool, code: str | None) -> None:
    """Hand the ledger over to a new key: the outgoing key signs the incoming one, the
    handover is the first entry the new key signs, the old private key is destroyed."""
    why = _reason(reason)
    desk = Desk.open()
    acting, signer = _organiser_signer(desk, password_stdin, code)
    settings = stream_settings(stream)
    retired, new = rotation.rotate(settings, operator=str(acting.account_id), reason=why)
    desk.app.record_key_rotation(
        settings.origin,
        retired=retired,
        successor=new.key_id,
        reason=why,
        actor=acting,
        now=desk.now,
        signer=signer,
    )
    click.echo(f"key {retired} retired, new active key {new.key_id}")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--from", "from_position", type=int, required=True,
              help="The first position the key is no longer trusted for.")  # fmt: skip
@click.option("--reason", default="", help="Why (recorded, required).")
@stream_option
@signing_options
@refusals_on_one_line
def keys_revoke(
    key_id: str,
    from_position: int,
    reason: str,
    stream: str,
    password_stdin: bool,
    code: str | None,
) -> None:
    """Record that a (retired) key is compromised from a position on; verify then flags every
    entry and checkpoint it signed from there."""
    why = _reason(reason)
    desk = Desk.open()
    acting, signer = _organiser_signer(desk, password_stdin, code)
    settings = stream_settings(stream)
    rotation.revoke(settings, key_id, from_position, operator=str(acting.account_id), reason=why)
    desk.app.record_key_revocation(
        settings.origin,
        key_id=key_id,
        from_position=from_position,
        reason=why,
        actor=acting,
        now=desk.now,
        signer=signer,
    )
    click.echo(f"key {key_id} revoked from position {from_position}")
