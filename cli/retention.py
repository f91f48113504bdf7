"""``huiyan retention shred|status``: crypto-shredding and the stores' retention periods, as
the compliance officer's signed decisions (docs/audit.md).

``shred --team T --reason R`` destroys one team's personal-data key (an erasure request, or a
team out of the contest); ``shred --identity-secret`` destroys the contest's identity secret
once its last registration check is over; ``shred --all-closed`` is the closing step of every
contest that has closed (its final over, no appeal open): every team key, the identity
secret, and each stored kind whose retention period has run. Run it again later and it
destroys what has come due since; what is already destroyed is never recorded twice.

Each shredding is an event of the contest's ``Retention`` signed ``shredded``; every rule is
checked before the password is asked, and the keys and files are destroyed after it was
proved and before the events are written (domain/retention_desk.py says why that order).
"""

from __future__ import annotations

from uuid import UUID

import click

from audit.retention import (
    Closing,
    RetentionUnknown,
    closing,
    destroy,
    due_kinds,
    retention_rules,
    said,
)
from cli.common import (
    asked,
    contest_option,
    print_json,
    refusals_on_one_line,
    signed_in,
    signing_options,
)
from domain.accounts import Actor, Role
from domain.contest import Contest
from domain.retention import STORE_KINDS, store_due
from domain.retention_desk import RetentionDesk, Shredding
from domain.signatures import Signer
from ledger.application import open_application
from services.desk import Desk

ACTION = "shred personal data and stored files"
READERS = (Role.COMPLIANCE_OFFICER, Role.ORGANISER, Role.AUDIT_ADMINISTRATOR)


@click.group()
def retention() -> None:
    """Destroy personal data and stored files when their time has come (signed)."""


def _open() -> tuple[Desk, RetentionDesk]:
    desk = Desk.open()
    return desk, open_application(RetentionDesk, desk.settings)


@retention.command("shred")
@click.option("--team", "team_id", type=click.UUID, help="One team's personal-data key.")
@click.option("--identity-secret", is_flag=True, help="The contest's identity-hash secret.")
@click.option("--all-closed", is_flag=True, help="The closing step of every closed contest.")
@click.option("--reason", default="", help="Why (recorded; required with --team).")
@contest_option
@signing_options
@refusals_on_one_line
def retention_shred(
    team_id: UUID | None,
    identity_secret: bool,
    all_closed: bool,
    reason: str,
    slug: str | None,
    password_stdin: bool,
    code: str | None,
) -> None:
    """Destroy, under your personal signature (shredded), one team's key, a contest's
    identity secret, or everything due of the closed contests; prints what it did."""
    if sum((team_id is not None, identity_secret, all_closed)) != 1:
        raise click.UsageError("give exactly one of --team, --identity-secret, --all-closed")
    desk, rd = _open()
    acting = signed_in(desk)
    acting.require(Role.COMPLIANCE_OFFICER, action=ACTION)
    signer = desk.signer(acting, asked(password_stdin, code))
    if team_id is not None:
        _shred_team(desk, rd, acting, team_id, reason, signer)
    elif identity_secret:
        _shred_secret(desk, rd, acting, desk.contest(slug).id, signer)
    else:
        _shred_closed(desk, rd, acting, signer)


def _shred_team(
    desk: Desk, rd: RetentionDesk, acting: Actor, team_id: UUID, reason: str, signer: Signer
) -> None:
    contest = rd.contest(rd.team(team_id).contest_id)
    done = rd.retention(contest.id).teams.get(team_id)
    if done is not None:
        desk.vault.shred_key(team_id)  # a key brought back from a backup goes again
        click.echo(f"team {team_id}: already shredded at {done['at'].isoformat()}")
        return
    shredding = Shredding(teams={team_id: desk.vault.key_sha256(team_id)}, reason=reason)
    _carry_out(desk, rd, acting, contest, shredding, signer)


def _shred_secret(
    desk: Desk, rd: RetentionDesk, acting: Actor, contest_id: UUID, signer: Signer
) -> None:
    contest = rd.contest(contest_id)
    done = rd.retention(contest_id).secret
    if done is not None:
        desk.vault.shred_identity_secret(contest_id)
        click.echo(f"{contest.slug}: identity secret already shredded at {done['at'].isoformat()}")
        return
    desk.vault.require_identity_secret_shreddable(contest_id)
    shredding = Shredding(secret=True, secret_sha256=desk.vault.identity_secret_sha256(contest_id))
    _carry_out(desk, rd, acting, contest, shredding, signer)


def _shred_closed(desk: Desk, rd: RetentionDesk, acting: Actor, signer: Signer) -> None:
    contests = desk.app.contests()
    due = {c.id: due_kinds(desk, rd, c, desk.now) for c in contests}
    stored = {c.id: rd.stored(c.id) for c in contests}
    closings: list[Closing] = []
    for contest in contests:
        problem = rd.closing_problem(contest.id, desk.now)
        if problem is not None:
            click.echo(f"{contest.slug}: not closed: {problem.message('en')}")
            continue
        keep = {
            kind: {d for o in contests if o.id != contest.id and kind not in due[o.id]
                   for d in stored[o.id][kind]}
            for kind in STORE_KINDS
        }  # fmt: skip
        closings.append(closing(desk, rd, contest, desk.now, keep))
    # Every rule of every contest first: a refusal asks for no password and destroys nothing.
    for found in closings:
        if not found.shredding.empty:
            rd.check(found.contest.id, found.shredding, actor=acting, now=desk.now)
    for found in closings:
        for team_id in found.again:
            desk.vault.shred_key(team_id)
            click.echo(f"{found.contest.slug}: team {team_id}: a restored key destroyed again")
        if found.shredding.empty:
            click.echo(f"{found.contest.slug}: nothing more to shred")
        else:
            _carry_out(desk, rd, acting, found.contest, found.shredding, signer)
        for note in found.notes:
            click.echo(f"{found.contest.slug}: {note}")


def _carry_out(
    desk: Desk,
    rd: RetentionDesk,
    acting: Actor,
    contest: Contest,
    shredding: Shredding,
    signer: Signer,
) -> None:
    """Signed first, destroyed next, recorded last."""
    prepared = rd.prepare(contest.id, shredding, actor=acting, now=desk.now, signer=signer)
    destroy(desk, contest, shredding)
    rd.record(prepared)
    for line in said(contest, shredding):
        click.echo(line)


@retention.command("status")
@contest_option
@refusals_on_one_line
def retention_status(slug: str | None) -> None:
    """What was destroyed of the contest and when, and when each stored kind comes due, in
    JSON (the compliance officer, the organiser, the audit administrator)."""
    desk, rd = _open()
    signed_in(desk).require(*READERS, action="read what was shredded")
    contest = desk.contest(slug)
    record = rd.retention(contest.id)
    problem = rd.closing_problem(contest.id, desk.now)
    try:
        periods = retention_rules(desk, contest.id)
        due = {k: store_due(contest.calendar, periods.days(k)) for k in STORE_KINDS}
    except RetentionUnknown:
        due = {}
    print_json(
        {
            "contest": contest.slug,
            "closed": problem is None,
            "not_closed_because": problem.message("en") if problem else None,
            "teams": {str(team): facts for team, facts in record.teams.items()},
            "identity_secret": record.secret,
            "stores": {
                kind: {"due": due.get(kind), "shredded": len(record.shredded(kind))}
                for kind in STORE_KINDS
            },
        }
    )
