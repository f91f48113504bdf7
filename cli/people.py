"""``huiyan login|logout|whoami`` and ``huiyan account ...``: people and service identities.

The first account of an instance (the bootstrap organiser) is opened without a session;
every later one by a signed-in organiser. A person's account holds an Ed25519 key pair whose
private half is sealed under their password (services/credentials.py); a service identity holds
a key file instead and can never sign in as a person.
"""

from __future__ import annotations

import click

from cli.common import print_json, read_password, refusals_on_one_line, signed_in
from domain.accounts import Account, Actor, Role
from services import enrolment, organising, totp
from services.credentials import (
    check_login,
    open_credential,
    seal_credential,
)
from services.desk import Desk
from services.own_account import open_own_account
from services.sessions import SessionError, session_name
from services.signin import SignInRefused, cli_origin

# --- signing in ------------------------------------------------------------------------------


@click.command()
@click.option("--login", "login", help="Your login (prompted when missing).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--totp", "code", help="The TOTP code, for roles that enrolled one.")
@refusals_on_one_line
def login(login: str | None, password_stdin: bool, code: str | None) -> None:
    """Sign in; the session lasts HUIYAN_SESSION_MINUTES (30) and is kept in
    $HUIYAN_HOME/sessions under HUIYAN_SESSION (default: your OS user)."""
    desk = Desk.open()
    login = login or click.prompt("Login")
    password = read_password(password_stdin, confirm=False)
    account = desk.auth.sign_in(
        session_name(), login, password, code, origin=cli_origin(), now=desk.now
    )
    click.echo(f"signed in as {account.id} ({account.role.value})")
    if account.needs_second_factor and not account.second_factor:
        click.echo("enrol a second factor now: huiyan account enrol-totp")


@click.command()
def logout() -> None:
    """End the session held under HUIYAN_SESSION."""
    desk = Desk.open()
    ended = desk.auth.sessions.end(session_name())
    click.echo("signed out" if ended else "not signed in")


@click.command()
@refusals_on_one_line
def whoami() -> None:
    """The signed-in account: id, role, team, second factor, when the session ends."""
    desk = Desk.open()
    name = session_name()
    account = desk.auth.signed_in(name, desk.now)
    record = desk.auth.sessions.current(name, desk.now)
    print_json(
        {
            "account": account.id,
            "role": account.role.value,
            "team": account.team_id,
            "leader": account.leader,
            "second_factor": account.second_factor,
            "signing_key": account.key_id,
            "session_ends": record.ends,
        }
    )


# --- accounts --------------------------------------------------------------------------------


@click.group()
def account() -> None:
    """Accounts: one role each; people sign, services do system work."""


@account.command("create")
@click.option("--login", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role if role is not Role.TEAM_MEMBER]),
    help="Team members open their own accounts (`huiyan account open`).",
)
@click.option("--name", "printed_name", help="The person's printed name (sealed).")
@click.option("--password-stdin", is_flag=True, help="Read the first password from stdin.")
@refusals_on_one_line
def account_create(
    login: str,
    role: str,
    printed_name: str | None,
    password_stdin: bool,
) -> None:
    """Open an account; prints its id. The instance's first account (the bootstrap
    organiser) is opened without signing in; every later one by a signed-in organiser.
    A service identity gets a key file (printed) instead of a password."""
    check_login(login)
    desk = Desk.open()
    acting = _organiser_or_bootstrap(desk)
    if Role(role) is Role.SERVICE:
        opened, key_file = organising.open_service_account(desk, acting, login=login)
        click.echo(opened)
        click.echo(f"service key file: {key_file}", err=True)
        return
    password = read_password(password_stdin, confirm=True)
    opened = organising.open_person_account(
        desk, acting, login=login, role=Role(role), password=password, printed_name=printed_name
    )
    click.echo(opened)


@account.command("open")
@click.option("--login", required=True)
@click.option("--name", "printed_name", required=True, help="Your name as printed (sealed).")
@click.option("--email", required=True, help="Where invitations reach you (sealed).")
@click.option("--phone", help="A telephone number (sealed).")
@click.option("--password-stdin", is_flag=True, help="Read the password (twice) from stdin.")
@refusals_on_one_line
def account_open(
    login: str, printed_name: str, email: str, phone: str | None, password_stdin: bool
) -> None:
    """Open your own team-member account (anyone); prints its id. Then sign in and either
    register a team (you lead it) or accept an invitation."""
    check_login(login)
    desk = Desk.open()
    password = read_password(password_stdin, confirm=True)
    click.echo(
        open_own_account(
            desk, login=login, name=printed_name, email=email, phone=phone, password=password
        )
    )


def _organiser_or_bootstrap(desk: Desk) -> Actor | None:
    """The signed-in organiser; nobody (the bootstrap case, which the domain allows once)
    when no one is signed in."""
    try:
        return signed_in(desk)
    except SessionError:
        if desk.app.bootstrapped():
            raise
        return None


@account.command("enrol-totp")
@click.option("--totp", "code", help="A code from the app for the secret shown last time.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@refusals_on_one_line
def account_enrol_totp(code: str | None, password_stdin: bool) -> None:
    """Enrol a TOTP second factor: prints the otpauth:// URI and its QR code, then asks for a
    code from your app (or give it later with --totp). Every session ends; sign in again
    with --totp."""
    desk = Desk.open()
    name = session_name()
    person = desk.auth.signed_in(name, desk.now)
    password = read_password(password_stdin, confirm=False)
    if not code:
        uri = enrolment.enrolment_uri(desk, person)
        click.echo(uri)
        click.echo(totp.terminal_qr(uri))
        code = click.prompt("Code from your app")
    enrolment.enrol(desk, person, password, code)
    desk.auth.sessions.end(name)
    click.echo("second factor enrolled; sign in again with --totp", err=True)


@account.command("password")
@click.option("--password-stdin", is_flag=True, help="Read the old, then the new, from stdin.")
@refusals_on_one_line
def account_password(password_stdin: bool) -> None:
    """Change your password; your signing key is resealed under it (same key pair, so your
    earlier signatures still verify). The first time, for an account someone else opened or
    reset, you get a new key pair that only your password opens. Every session ends."""
    desk = Desk.open()
    name = session_name()
    person = desk.auth.signed_in(name, desk.now)
    old = read_password(password_stdin, prompt="Current password", confirm=False)
    new = read_password(password_stdin, prompt="New password", confirm=not password_stdin)
    credential = open_credential(desk.vault, desk.blobs, person.id, person.credential)
    if not credential.password_matches(old):
        raise SignInRefused("wrong password: nothing was changed")
    if person.own_key:
        desk.app.change_password(
            credential=seal_credential(
                desk.vault, desk.blobs, person.id, credential.with_password(old, new)
            ),
            actor=person.actor,
            now=desk.now,
        )
    else:
        # The old key was made under a password someone else knew: a new pair, one's own.
        fresh, public_key = credential.with_new_key(new)
        desk.app.take_own_key(
            credential=seal_credential(desk.vault, desk.blobs, person.id, fresh),
            public_key=public_key.hex(),
            actor=person.actor,
            now=desk.now,
        )
    desk.auth.sessions.end(name)
    click.echo("password changed; sign in again", err=True)


@account.command("replace-key")
@click.option("--login", required=True, help="Whose password was lost.")
@click.option("--reason", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the person's new password.")
@refusals_on_one_line
def account_replace_key(login: str, reason: str, password_stdin: bool) -> None:
    """A lost password (organiser): a new password and a new key pair for the person. Their
    old signatures still verify; the old key signs nothing more."""
    desk = Desk.open()
    acting = signed_in(desk)
    account_id = Account.create_id(desk.vault.keyed_hash(login))
    found = desk.app.account(account_id)
    old = open_credential(desk.vault, desk.blobs, found.id, found.credential)
    password = read_password(password_stdin, prompt="New password", confirm=not password_stdin)
    fresh, public_key = old.with_new_key(password)
    desk.app.replace_signing_key(
        found.id,
        credential=seal_credential(desk.vault, desk.blobs, found.id, fresh),
        public_key=public_key.hex(),
        reason=reason,
        actor=acting,
        now=desk.now,
    )
    click.echo(found.id)
