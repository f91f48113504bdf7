"""Organiser commands for the registration part of the contest: ``huiyan contest|rules|account|
team|review|blacklist ...``. Tests and the README demo drive the contest through these too.

Every privileged command acts as the signed-in person and refuses on one line (cli/common.py).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from cli.common import (
    FILE,
    asked,
    contest_option,
    print_json,
    refusals_on_one_line,
    signed_in,
    signing_options,
)
from domain.accounts import Actor, Role
from domain.teams import Team
from services import intake, organising, strict_files
from services.desk import Desk
from services.read_models import listings
from services.team_documents import attach_documents

# --- contest ---------------------------------------------------------------------------------


@click.group()
def contest() -> None:
    """Create the contest and see its calendar."""


@contest.command("create")
@click.option("--file", "path", type=FILE, required=True, help="contest.yaml")
@refusals_on_one_line
def contest_create(path: Path) -> None:
    """Create the contest from a contest file; prints its id."""
    desk = Desk.open()
    spec = intake.load_contest(path)
    click.echo(spec.create(desk.app, actor=signed_in(desk), now=desk.now))


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
@refusals_on_one_line
def contest_call_documents(slug: str | None) -> None:
    """Ask every team for the commitment letter, IP statement and letter of intent."""
    desk = Desk.open()
    desk.app.call_for_documents(desk.contest(slug).id, actor=signed_in(desk), now=desk.now)


# --- rules -----------------------------------------------------------------------------------


@click.group()
def rules() -> None:
    """Publish the scoring rules (before the preliminary round starts)."""


@rules.command("publish")
@click.option("--file", "path", type=FILE, required=True, help="rules YAML")
@contest_option
@signing_options
@refusals_on_one_line
def rules_publish(path: Path, slug: str | None, password_stdin: bool, code: str | None) -> None:
    """Check the rules document, store it, and commit it by SHA-256 under your personal
    signature (meaning: published); prints the version."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = desk.signer(acting, asked(password_stdin, code))
    version, sha256 = organising.publish_rules(desk, acting, desk.contest(slug), path, signer)
    click.echo(f"{version} {sha256}")


@rules.command("list")
@contest_option
@refusals_on_one_line
def rules_list(slug: str | None) -> None:
    """Every published version, oldest first, in JSON."""
    desk = Desk.open()
    print_json(desk.app.rules(desk.contest(slug).id).versions)


# --- teams -----------------------------------------------------------------------------------


@click.group()
def team() -> None:
    """Register teams and move their registrations along."""


@team.command("register")
@click.option("--file", "path", type=FILE, required=True, help="team.yaml")
@refusals_on_one_line
def team_register(path: Path) -> None:
    """Register your team from a team file (you become its leader; the file holds your own
    record and the e-mail addresses to invite); prints the team id."""
    desk = Desk.open()
    acting = signed_in(desk)
    team = intake.load_team(path)
    team_id = intake.register_team(
        desk.app, team, vault=desk.vault, blobs=desk.blobs, actor=acting, now=desk.now
    )
    click.echo(team_id)
    leader = dataclasses.replace(acting, team_id=team_id, leader=True)
    for email in team.invite:
        _send_invitation(desk, team_id, email, leader)


@team.command("invite")
@click.argument("team_id", type=click.UUID)
@click.option("--email", required=True, help="Where the invitation goes.")
@refusals_on_one_line
def team_invite(team_id: UUID, email: str) -> None:
    """Invite someone to your team by e-mail (the leader); they accept with their own
    account and identity document. Nobody is in a team without accepting."""
    desk = Desk.open()
    checked = strict_files.validated(Path("--email"), intake.EmailSpec, {"email": email})
    _send_invitation(desk, team_id, checked.email, signed_in(desk))


def _send_invitation(desk: Desk, team_id: UUID, email: str, acting: Actor) -> None:
    message = intake.invite(
        desk.app,
        team_id,
        email,
        vault=desk.vault,
        outbox=desk.settings.home / "outbox",
        actor=acting,
        now=desk.now,
    )
    click.echo(f"invitation to {email} sent ({message.name} in the outbox)", err=True)


@team.command("accept")
@click.option("--token", required=True, help="The token from the invitation e-mail.")
@click.option("--file", "path", type=FILE, required=True, help="member.yaml: your own record")
@refusals_on_one_line
def team_accept(token: str, path: Path) -> None:
    """Join the team that invited you, with your own record and identity document; prints
    the team id."""
    desk = Desk.open()
    acting = signed_in(desk)
    member = intake.load_member(path)
    click.echo(
        intake.accept(
            desk.app, token, member, vault=desk.vault, blobs=desk.blobs, actor=acting,
            now=desk.now,
        )
    )  # fmt: skip


@team.command("remove")
@click.argument("team_id", type=click.UUID)
@click.option("--account", "account_id", type=click.UUID, required=True)
@refusals_on_one_line
def team_remove(team_id: UUID, account_id: UUID) -> None:
    """Leave your team (your own account) or, as its leader, remove a member."""
    desk = Desk.open()
    desk.app.remove_member(team_id, account_id, actor=signed_in(desk), now=desk.now)


@team.command("language")
@click.argument("team_id", type=click.UUID)
@click.argument("language", type=click.Choice(["zh", "en"]))
@refusals_on_one_line
def team_language(team_id: UUID, language: str) -> None:
    """Choose the team's language; it cannot change afterwards."""
    desk = Desk.open()
    desk.app.choose_language(team_id, language, actor=signed_in(desk), now=desk.now)


@team.command("enter")
@click.argument("team_id", type=click.UUID)
@click.option("--track", type=int, required=True)
@click.option("--group", required=True)
@refusals_on_one_line
def team_enter(team_id: UUID, track: int, group: str) -> None:
    """Enter a track in one of its groups."""
    desk = Desk.open()
    desk.app.enter_track(team_id, track, group, actor=signed_in(desk), now=desk.now)


@team.command("leave")
@click.argument("team_id", type=click.UUID)
@click.option("--track", type=int, required=True)
@refusals_on_one_line
def team_leave(team_id: UUID, track: int) -> None:
    desk = Desk.open()
    desk.app.leave_track(team_id, track, actor=signed_in(desk), now=desk.now)


@team.command("upload")
@click.argument("team_id", type=click.UUID)
@click.argument("kind")
@click.argument("paths", type=FILE, nargs=-1, required=True)
@refusals_on_one_line
def team_upload(team_id: UUID, kind: str, paths: tuple[Path, ...]) -> None:
    """Upload a document; several PDFs for the identity proof are merged into one."""
    desk = Desk.open()
    attach_documents(desk, team_id, kind, paths, signed_in(desk))


@team.command("submit")
@click.argument("team_id", type=click.UUID)
@refusals_on_one_line
def team_submit(team_id: UUID) -> None:
    """Submit the registration for review."""
    desk = Desk.open()
    desk.app.submit(team_id, actor=signed_in(desk), now=desk.now)
    click.echo(desk.app.team(team_id).status.value)


@team.command("withdraw")
@click.argument("team_id", type=click.UUID)
@refusals_on_one_line
def team_withdraw(team_id: UUID) -> None:
    """Withdraw a submitted (or approved) registration to change it."""
    desk = Desk.open()
    desk.app.withdraw(team_id, actor=signed_in(desk), now=desk.now)


@team.command("show")
@click.argument("team_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="JSON (the only format for now).")
@refusals_on_one_line
def team_show(team_id: UUID, as_json: bool) -> None:
    """One team as recorded: no personal content, only hashes (the organiser, or the
    team's own members)."""
    desk = Desk.open()
    signed_in(desk).require_reader_of(team_id, "a team")
    print_json(team_summary(desk.app.team(team_id), desk.now))


@team.command("list")
@contest_option
@click.option("--json", "as_json", is_flag=True, help="JSON (the only format for now).")
@refusals_on_one_line
def team_list(slug: str | None, as_json: bool) -> None:
    """Every team of the contest, with overdue reviews flagged (the organiser)."""
    desk = Desk.open()
    signed_in(desk).require(Role.ORGANISER, action="list the teams")
    # Which teams, from the listing; each summary from its aggregate, loaded by id.
    teams = listings(desk.app).teams(desk.contest(slug).id)
    print_json([team_summary(desk.app.team(found.id), desk.now) for found in teams])


@team.command("roster")
@click.argument("team_id", type=click.UUID)
@refusals_on_one_line
def team_roster(team_id: UUID) -> None:
    """The members' personal records (names, identity documents, contact), unsealed; the
    organiser or the team's own members. Every read is in the access log."""
    desk = Desk.open()
    acting = signed_in(desk)
    desk.require_read(acting, team_id, "read.team_members", "a team's members")
    found = desk.app.team(team_id)
    records = [
        json.loads(desk.vault.open_from(desk.blobs, team_id, member["record"]))
        for member in found.members
    ]
    desk.record_access(acting, "read.team_members", team_id, "ok")
    print_json(records)


@team.command("document")
@click.argument("team_id", type=click.UUID)
@click.argument("kind")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@refusals_on_one_line
def team_document(team_id: UUID, kind: str, out: Path) -> None:
    """Write one of the team's documents (unsealed PDF) to --out; the organiser or the
    team's own members. Every read is in the access log."""
    desk = Desk.open()
    out.write_bytes(organising.read_document(desk, signed_in(desk), team_id, kind))


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
@signing_options
@refusals_on_one_line
def review_approve(team_id: UUID, reason: str, password_stdin: bool, code: str | None) -> None:
    """Approve a submitted registration, under your personal signature (approved)."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = desk.signer(acting, asked(password_stdin, code))
    desk.app.approve(team_id, actor=acting, now=desk.now, reason=reason, signer=signer)


@review.command("reject")
@click.argument("team_id", type=click.UUID)
@click.option("--reason", default="", help="Why; the team sees it.")
@signing_options
@refusals_on_one_line
def review_reject(team_id: UUID, reason: str, password_stdin: bool, code: str | None) -> None:
    """Reject a submitted registration with a reason, under your personal signature."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = desk.signer(acting, asked(password_stdin, code))
    desk.app.reject(team_id, reason=reason, actor=acting, now=desk.now, signer=signer)


# --- blacklist -------------------------------------------------------------------------------


@click.group()
def blacklist() -> None:
    """Screen member organisations against the credit blacklists."""


@blacklist.command("import")
@click.option("--file", "path", type=FILE, required=True, help="CSV: organisation,credit_code")
@click.option("--source", required=True, help='e.g. "Credit China"')
@click.option("--listed-on", help="The list's own date, YYYY-MM-DD (default: today).")
@contest_option
@refusals_on_one_line
def blacklist_import(path: Path, source: str, listed_on: str | None, slug: str | None) -> None:
    """Store the list file by hash, finish any screening cut short, import the list and
    screen every team; prints the disqualified team ids."""
    desk = Desk.open()
    contest_id, acting = desk.contest(slug).id, signed_in(desk)
    resumed, number, entries, disqualified = organising.import_blacklist(
        desk, acting, contest_id, path, source=source, listed_on=listed_on
    )
    _print_screenings(resumed)
    click.echo(f"list {number}: {entries} entries, {len(disqualified)} disqualified")
    for team_id in disqualified:
        click.echo(team_id)


@blacklist.command("resume")
@contest_option
@refusals_on_one_line
def blacklist_resume(slug: str | None) -> None:
    """Finish a screening cut short (a crash between two teams): screens only the teams not
    screened yet; prints each list's disqualified team ids."""
    desk = Desk.open()
    resumed = desk.app.resume_screening(desk.contest(slug).id, actor=signed_in(desk), now=desk.now)
    if not resumed:
        click.echo("no screening to resume")
    _print_screenings(resumed)


def _print_screenings(screenings: list[tuple[int, list[UUID]]]) -> None:
    for number, disqualified in screenings:
        click.echo(f"list {number}: screening finished, {len(disqualified)} disqualified")
        for team_id in disqualified:
            click.echo(team_id)


@blacklist.command("clear")
@click.argument("team_id", type=click.UUID)
@click.argument("match")
@click.option("--reason", required=True, help="Why the match is false.")
@signing_options
@refusals_on_one_line
def blacklist_clear(
    team_id: UUID, match: str, reason: str, password_stdin: bool, code: str | None
) -> None:
    """Clear a false blacklist match: a decision with a reason, under your personal
    signature (meaning: declared)."""
    desk = Desk.open()
    acting = signed_in(desk)
    signer = desk.signer(acting, asked(password_stdin, code))
    desk.app.clear_match(team_id, match, reason=reason, actor=acting, now=desk.now, signer=signer)
