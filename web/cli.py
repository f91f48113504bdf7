"""Organiser commands for the registration part of the contest: ``huiyan contest|rules|account|
team|review|blacklist ...``. Tests and the README demo drive the contest through these too.

Every privileged command names its actor (``--actor LOGIN`` or ``HUIYAN_ACTOR``). A refused
command prints one line, ``error: <message> [<key>]``, and exits 2.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from domain.accounts import Account, Actor, Role
from domain.contest import Contest
from domain.errors import DomainError
from domain.registration import Registration
from domain.teams import Team
from domain.time import SHANGHAI
from ledger.blobs import BlobError, BlobStore
from ledger.settings import Settings, SettingsError
from ledger.vault import Vault, VaultError
from web import intake, strict_files
from web.passwords import hash_password
from web.uploads import read_pdfs

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@dataclass
class Desk:
    """What every command needs, opened once per invocation."""

    settings: Settings
    app: Registration
    vault: Vault
    blobs: BlobStore
    now: datetime

    @classmethod
    def open(cls) -> Desk:
        from ledger.application import open_application

        settings = Settings.from_env()
        return cls(
            settings=settings,
            app=open_application(Registration, settings),
            vault=Vault(settings.keys_dir),
            blobs=BlobStore(settings.blobs_dir),
            now=settings.now().astimezone(SHANGHAI),
        )

    def actor(self, login: str | None) -> Actor:
        if not login:
            raise click.UsageError("name the acting account: --actor LOGIN or HUIYAN_ACTOR")
        return self.app.account_by_login(self.vault.keyed_hash(login)).actor

    def contest(self, slug: str | None) -> Contest:
        """The named contest, or the only one there is."""
        if slug:
            return self.app.contest_by_slug(slug)
        contests = self.app.contests()
        if len(contests) != 1:
            raise click.UsageError(f"there are {len(contests)} contests; name one with --contest")
        return contests[0]


def refusals_on_one_line(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            click.echo(f"error: {error.message('en')} [{error.key}]", err=True)
        except (strict_files.FileInvalid, SettingsError, BlobError, VaultError) as error:
            click.echo(f"error: {error}", err=True)
        sys.exit(2)

    return wrapper


def actor_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--actor", envvar="HUIYAN_ACTOR", help="Login of the acting account (HUIYAN_ACTOR)."
    )(command)


def contest_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--contest", "slug", help="Contest slug; optional when there is one.")(
        command
    )


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


# --- contest ---------------------------------------------------------------------------------


@click.group()
def contest() -> None:
    """Create the contest and see its calendar."""


@contest.command("create")
@click.option("--file", "path", type=FILE, required=True, help="contest.yaml")
@actor_option
@refusals_on_one_line
def contest_create(path: Path, actor: str | None) -> None:
    """Create the contest from a contest file; prints its id."""
    desk = Desk.open()
    spec = intake.load_contest(path)
    click.echo(spec.create(desk.app, actor=desk.actor(actor), now=desk.now))


@contest.command("show")
@contest_option
@refusals_on_one_line
def contest_show(slug: str | None) -> None:
    """The contest as recorded, in JSON."""
    found = Desk.open().contest(slug)
    print_json(
        {
            "id": found.id,
            "slug": found.slug,
            "name": found.name,
            "groups": found.groups,
            "tracks": found.tracks,
            "calendar": found.calendar_record,
            "quota": found.quota_record,
            "documents_called_at": found.documents_called_at,
        }
    )


@contest.command("call-documents")
@contest_option
@actor_option
@refusals_on_one_line
def contest_call_documents(slug: str | None, actor: str | None) -> None:
    """Ask every team for the commitment letter, IP statement and letter of intent."""
    desk = Desk.open()
    desk.app.call_for_documents(desk.contest(slug).id, actor=desk.actor(actor), now=desk.now)


# --- rules -----------------------------------------------------------------------------------


@click.group()
def rules() -> None:
    """Publish the scoring rules (before the preliminary round starts)."""


@rules.command("publish")
@click.option("--file", "path", type=FILE, required=True, help="rules YAML")
@contest_option
@actor_option
@refusals_on_one_line
def rules_publish(path: Path, slug: str | None, actor: str | None) -> None:
    """Check the rules document, store it, and commit it by SHA-256; prints the version."""
    from scoring.rules import RulesInvalid, parse_rules, rules_sha256

    desk = Desk.open()
    data = strict_files.read_capped(path, strict_files.YAML_LIMIT)
    try:
        parse_rules(data)
    except RulesInvalid as error:
        raise strict_files.FileInvalid(path, "(rules)", str(error)) from None
    sha256 = rules_sha256(data)
    version = desk.app.publish_rules(
        desk.contest(slug).id,
        sha256=sha256,
        blob=desk.blobs.put(data),
        actor=desk.actor(actor),
        now=desk.now,
    )
    click.echo(f"{version} {sha256}")


@rules.command("list")
@contest_option
@refusals_on_one_line
def rules_list(slug: str | None) -> None:
    """Every published version, oldest first, in JSON."""
    desk = Desk.open()
    print_json(desk.app.rules(desk.contest(slug).id).versions)


# --- accounts --------------------------------------------------------------------------------


@click.group()
def account() -> None:
    """Accounts: one role each."""


@account.command("create")
@click.option("--login", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--team", "team_id", type=click.UUID, help="For team members.")
@click.option("--leader", is_flag=True, help="The team's leader.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@actor_option
@refusals_on_one_line
def account_create(
    login: str,
    role: str,
    team_id: UUID | None,
    leader: bool,
    password_stdin: bool,
    actor: str | None,
) -> None:
    """Open an account; prints its id. The very first account needs no --actor."""
    desk = Desk.open()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.UsageError("a password has at least 12 characters")
    # Opening one's own account is the bootstrap case; the domain allows it only once.
    acting = desk.actor(actor) if actor and actor != login else None
    login_key = desk.vault.keyed_hash(login)
    account_id = Account.create_id(login_key)
    if not desk.vault.has_key(account_id):
        desk.vault.create_key(account_id)
    credential = json.dumps({"login": login, "password": hash_password(password)}).encode()
    click.echo(
        desk.app.open_account(
            login_key=login_key,
            role=Role(role),
            credential=desk.vault.seal_to(desk.blobs, account_id, credential),
            team_id=team_id,
            leader=leader,
            actor=acting,
            now=desk.now,
        )
    )


# --- teams -----------------------------------------------------------------------------------


@click.group()
def team() -> None:
    """Register teams and move their registrations along."""


@team.command("register")
@click.option("--file", "path", type=FILE, required=True, help="team.yaml")
@actor_option
@refusals_on_one_line
def team_register(path: Path, actor: str | None) -> None:
    """Register a team from a team file; prints the team id."""
    desk = Desk.open()
    click.echo(
        intake.register_team(
            desk.app,
            intake.load_team(path),
            vault=desk.vault,
            blobs=desk.blobs,
            actor=desk.actor(actor),
            now=desk.now,
        )
    )


@team.command("members")
@click.argument("team_id", type=click.UUID)
@click.option("--file", "path", type=FILE, required=True, help="team.yaml with the new members")
@actor_option
@refusals_on_one_line
def team_members(team_id: UUID, path: Path, actor: str | None) -> None:
    """Replace the members with those of a team file (withdraw first if submitted)."""
    desk = Desk.open()
    intake.change_members(
        desk.app,
        intake.load_team(path),
        team_id,
        vault=desk.vault,
        blobs=desk.blobs,
        actor=desk.actor(actor),
        now=desk.now,
    )


@team.command("language")
@click.argument("team_id", type=click.UUID)
@click.argument("language", type=click.Choice(["zh", "en"]))
@actor_option
@refusals_on_one_line
def team_language(team_id: UUID, language: str, actor: str | None) -> None:
    """Choose the team's language; it cannot change afterwards."""
    desk = Desk.open()
    desk.app.choose_language(team_id, language, actor=desk.actor(actor), now=desk.now)


@team.command("enter")
@click.argument("team_id", type=click.UUID)
@click.option("--track", type=int, required=True)
@click.option("--group", required=True)
@actor_option
@refusals_on_one_line
def team_enter(team_id: UUID, track: int, group: str, actor: str | None) -> None:
    """Enter a track in one of its groups."""
    desk = Desk.open()
    desk.app.enter_track(team_id, track, group, actor=desk.actor(actor), now=desk.now)


@team.command("leave")
@click.argument("team_id", type=click.UUID)
@click.option("--track", type=int, required=True)
@actor_option
@refusals_on_one_line
def team_leave(team_id: UUID, track: int, actor: str | None) -> None:
    desk = Desk.open()
    desk.app.leave_track(team_id, track, actor=desk.actor(actor), now=desk.now)


@team.command("upload")
@click.argument("team_id", type=click.UUID)
@click.argument("kind")
@click.argument("paths", type=FILE, nargs=-1, required=True)
@actor_option
@refusals_on_one_line
def team_upload(team_id: UUID, kind: str, paths: tuple[Path, ...], actor: str | None) -> None:
    """Upload a document; several PDFs for the identity proof are merged into one."""
    desk = Desk.open()
    checked = read_pdfs(paths, name=f"{kind}.pdf")
    with intake.discarded_on_refusal(desk.blobs) as written:
        written.append(desk.vault.seal_to(desk.blobs, team_id, checked.data))
        desk.app.attach_document(
            team_id,
            kind,
            ciphertext=written[0],
            size=checked.size,
            pages=checked.pages,
            actor=desk.actor(actor),
            now=desk.now,
        )


@team.command("submit")
@click.argument("team_id", type=click.UUID)
@actor_option
@refusals_on_one_line
def team_submit(team_id: UUID, actor: str | None) -> None:
    """Submit the registration for review."""
    desk = Desk.open()
    desk.app.submit(team_id, actor=desk.actor(actor), now=desk.now)
    click.echo(desk.app.team(team_id).status.value)


@team.command("withdraw")
@click.argument("team_id", type=click.UUID)
@actor_option
@refusals_on_one_line
def team_withdraw(team_id: UUID, actor: str | None) -> None:
    """Withdraw a submitted (or approved) registration to change it."""
    desk = Desk.open()
    desk.app.withdraw(team_id, actor=desk.actor(actor), now=desk.now)


@team.command("show")
@click.argument("team_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="JSON (the only format for now).")
@refusals_on_one_line
def team_show(team_id: UUID, as_json: bool) -> None:
    """One team as recorded: no personal content, only hashes."""
    desk = Desk.open()
    print_json(team_summary(desk.app.team(team_id), desk.now))


@team.command("list")
@contest_option
@click.option("--json", "as_json", is_flag=True, help="JSON (the only format for now).")
@refusals_on_one_line
def team_list(slug: str | None, as_json: bool) -> None:
    """Every team of the contest, with overdue reviews flagged."""
    desk = Desk.open()
    teams = desk.app.teams(desk.contest(slug).id)
    print_json([team_summary(found, desk.now) for found in teams])


def team_summary(found: Team, now: datetime) -> dict[str, Any]:
    return {
        "id": found.id,
        "contest_id": found.contest_id,
        "name": found.name,
        "language": found.language,
        "status": found.status.value,
        "disqualified": found.disqualified,
        "members": [
            {
                "position": position,
                "leader": member["leader"],
                "organisation": member["organisation"],
                "organisation_code": member["organisation_code"],
                "record": member["record"],
            }
            for position, member in enumerate(found.members, start=1)
        ],
        "tracks": [{"track": track, "group": group} for track, group in found.tracks.items()],
        "documents": found.documents,
        "registered_at": found.registered_at,
        "submitted_at": found.submitted_at,
        "review_due": found.review_due,
        "review_overdue": found.review_overdue(now),
        "decisions": found.decisions,
        "blacklist_evidence": found.evidence,
        "cleared_matches": found.cleared,
        "version": found.version,
    }


# --- review ----------------------------------------------------------------------------------


@click.group()
def review() -> None:
    """The organiser's answer to a submitted registration."""


@review.command("approve")
@click.argument("team_id", type=click.UUID)
@click.option("--reason", default="", help="Optional note.")
@actor_option
@refusals_on_one_line
def review_approve(team_id: UUID, reason: str, actor: str | None) -> None:
    desk = Desk.open()
    desk.app.approve(team_id, actor=desk.actor(actor), now=desk.now, reason=reason)


@review.command("reject")
@click.argument("team_id", type=click.UUID)
@click.option("--reason", default="", help="Why; the team sees it.")
@actor_option
@refusals_on_one_line
def review_reject(team_id: UUID, reason: str, actor: str | None) -> None:
    desk = Desk.open()
    desk.app.reject(team_id, reason=reason, actor=desk.actor(actor), now=desk.now)


# --- blacklist -------------------------------------------------------------------------------


@click.group()
def blacklist() -> None:
    """Screen member organisations against the credit blacklists."""


@blacklist.command("import")
@click.option("--file", "path", type=FILE, required=True, help="CSV: organisation,credit_code")
@click.option("--source", required=True, help='e.g. "Credit China"')
@click.option("--listed-on", help="The list's own date, YYYY-MM-DD (default: today).")
@contest_option
@actor_option
@refusals_on_one_line
def blacklist_import(
    path: Path, source: str, listed_on: str | None, slug: str | None, actor: str | None
) -> None:
    """Import a list and screen every team; prints the disqualified team ids."""
    desk = Desk.open()
    listing = intake.load_blacklist(path)
    desk.blobs.put(listing.data)
    number, disqualified = desk.app.import_blacklist(
        desk.contest(slug).id,
        source=source,
        sha256=listing.sha256,
        listed_on=intake.listed_on(listed_on, desk.now),
        entries=listing.entries,
        actor=desk.actor(actor),
        now=desk.now,
    )
    click.echo(f"list {number}: {len(listing.entries)} entries, {len(disqualified)} disqualified")
    for team_id in disqualified:
        click.echo(team_id)


@blacklist.command("clear")
@click.argument("team_id", type=click.UUID)
@click.argument("match")
@click.option("--reason", required=True, help="Why the match is false.")
@actor_option
@refusals_on_one_line
def blacklist_clear(team_id: UUID, match: str, reason: str, actor: str | None) -> None:
    """Clear a false blacklist match (a signed organiser decision with a reason)."""
    desk = Desk.open()
    desk.app.clear_match(team_id, match, reason=reason, actor=desk.actor(actor), now=desk.now)
