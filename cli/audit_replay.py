"""``huiyan audit timeline|state|rescore|rebuild``: a matter's history, any aggregate as of a
position or a time, a recorded score recomputed from its recorded inputs, and the read models
checked against the log (docs/audit.md).

Who reads what: the organiser, compliance officers and audit administrators read any matter;
an arbitrator the matters of the appeals they were drawn for; a team's members their own
team's, with every account outside the team shown as a pseudonym (an expert's identity is not
theirs to learn). Every read is in the access log.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any
from uuid import UUID

import click

from audit.matter import as_of, position_as_of, public_state, team_matter, timeline
from audit.rebuild_check import compare_read_models
from audit.rescore import RescoreFailed, rescore
from cli.common import contest_option, print_json, refusals_on_one_line, signed_in
from domain.accounts import Actor, Role
from domain.errors import AppealNotYours, NotPermitted
from domain.submissions import Submission
from scoring.version import scorer_version
from services import standings
from services.judging_steps import JudgingDesk

AUDITORS = (Role.ORGANISER, Role.COMPLIANCE_OFFICER, Role.AUDIT_ADMINISTRATOR)
SCORE_EVENTS = ("Submission.ScoreComputed", "Submission.ScoreSuperseded")


def matter_of(
    jd: JudgingDesk, *, team: UUID | None, submission: UUID | None, appeal: UUID | None
) -> tuple[UUID, list[UUID]]:
    """The team a matter belongs to, and the ids of its aggregates."""
    app = jd.judging
    if appeal is not None:
        found = app.appeal(appeal)
        team, submission = found.team_id, found.submission_id
    if submission is not None:
        entry = app.submission(submission)
        review = app.review_of(entry.contest_id, entry.track, entry.team_id)
        ids = [entry.id, *([review.id] if review else [])]
        ids += [a.id for a in app.appeals(entry.contest_id) if a.submission_id == entry.id]
        return entry.team_id, ids
    if team is None:
        raise click.UsageError("name a matter: --team, --submission or --appeal")
    return team, team_matter(app, app.team(team))


def may_read(jd: JudgingDesk, acting: Actor, team: UUID, appeal: UUID | None) -> None:
    if acting.role in AUDITORS:
        return
    if acting.role is Role.ARBITRATOR:
        if appeal is None or acting.account_id not in jd.judging.appeal(appeal).arbitrators:
            raise AppealNotYours(appeal=appeal)
        return
    if acting.role is Role.TEAM_MEMBER:
        acting.require_reader_of(team, "a team's history")
        return
    raise NotPermitted(role=acting.role.value, action="read a matter's history")


def pseudonyms(jd: JudgingDesk, acting: Actor, team: UUID) -> Any:
    """A team member sees their team's own accounts; anyone else as ``person-<8 hex>`` (the
    same person keeps the same pseudonym in one team's history)."""
    if acting.role is not Role.TEAM_MEMBER:
        return str
    members = {str(m.get("account_id")) for m in jd.judging.team(team).members}

    def shown(account: str) -> str:
        if account in members:
            return account
        return "person-" + hashlib.sha256(f"{team}:{account}".encode()).hexdigest()[:8]

    return shown


def matter_options(command: Any) -> Any:
    for name in ("appeal", "submission", "team"):
        command = click.option(f"--{name}", type=click.UUID, help=f"The {name}'s id.")(command)
    return command


@click.command("timeline")
@matter_options
@refusals_on_one_line
def audit_timeline(team: UUID | None, submission: UUID | None, appeal: UUID | None) -> None:
    """Every event of a team's, a submission's or an appeal's matter in ledger order, with its
    time, actor, meaning and the status of its ledger and personal signatures."""
    jd = JudgingDesk.open()
    acting = signed_in(jd.desk)
    owner, ids = matter_of(jd, team=team, submission=submission, appeal=appeal)
    may_read(jd, acting, owner, appeal)
    lines = timeline(jd.ledger, ids, shown=pseudonyms(jd, acting, owner))
    jd.desk.record_access(acting, "read.timeline", owner, "ok")
    print_json(lines)


@click.command("state")
@click.option("--as-of", "as_of_text", required=True, help="A ledger position, or an ISO time.")
@matter_options
@refusals_on_one_line
def audit_state(
    as_of_text: str, team: UUID | None, submission: UUID | None, appeal: UUID | None
) -> None:
    """The state of a matter's aggregates as it was at a ledger position or a time (the
    contest's time of each event)."""
    jd = JudgingDesk.open()
    acting = signed_in(jd.desk)
    owner, ids = matter_of(jd, team=team, submission=submission, appeal=appeal)
    may_read(jd, acting, owner, appeal)
    lines = timeline(jd.ledger, ids, shown=pseudonyms(jd, acting, owner))
    limit = position_as_of(as_of_text, lines)
    states = {
        str(ident): public_state(found)
        for ident, found in as_of(jd.judging, jd.ledger, ids, limit).items()
    }
    jd.desk.record_access(acting, "read.state", owner, "ok")
    print_json({"as_of_position": limit, "aggregates": states})


@click.command("leaderboard")
@click.option("--as-of", "as_of_text", required=True, help="A ledger position, or an ISO time.")
@click.option("--track", type=click.IntRange(1, 8), required=True)
@contest_option
@refusals_on_one_line
def audit_leaderboard(as_of_text: str, track: int, slug: str | None) -> None:
    """A track's preliminary standings as they stood at a ledger position or a time, from
    the aggregates replayed to then (the organiser and auditors)."""
    jd = JudgingDesk.open()
    acting = signed_in(jd.desk)
    acting.require(*AUDITORS, action="read past standings")
    contest = jd.desk.contest(slug)
    reviews = jd.judging.reviews(contest.id, track)
    ids = [r.id for r in reviews] + [r.submission_id for r in reviews]
    lines = timeline(jd.ledger, ids)
    limit = position_as_of(as_of_text, lines)
    then = as_of(jd.judging, jd.ledger, ids, limit)
    entries = [
        standings.entry_row(review, then[review.submission_id])
        for review in (then[r.id] for r in reviews if r.id in then)
        if review.submission_id in then
    ]
    rules = jd.rules(contest.id)[0]
    jd.desk.record_access(acting, "read.state", f"{contest.id}:track-{track}", "ok")
    print_json(
        {
            "as_of_position": limit,
            "track": track,
            "standings": [
                {"team": jd.judging.team(s.team_id).name, "pseudonym": s.pseudonym, **s.record()}
                for s in standings.ranked(entries, rules)
            ],
        }
    )


@click.command("rescore")
@click.argument("position", type=int)
@refusals_on_one_line
def audit_rescore(position: int) -> None:
    """Recompute the score recorded at POSITION from its recorded inputs under its recorded
    rules: "same bytes", or the difference field by field, and whether the scorer changed."""
    jd = JudgingDesk.open()
    acting = signed_in(jd.desk)
    acting.require(*AUDITORS, Role.ARBITRATOR, action="re-score a recorded score")
    entry = jd.ledger.entry(position)
    if not entry.topic.endswith(SCORE_EVENTS):
        raise click.UsageError(f"the entry at position {position} is not a recorded score")
    submission = jd.judging.repository.get(entry.originator_id, version=entry.originator_version)
    assert isinstance(submission, Submission) and submission.score is not None
    score = submission.score
    book = jd.judging.rules(submission.contest_id)
    document = next(
        jd.desk.blobs.get(v["blob"]) for v in book.versions if v["sha256"] == score["rules_sha256"]
    )
    recorded = None
    if score["breakdown_sha256"]:
        recorded = json.loads(jd.desk.blobs.get(score["breakdown_sha256"]))
    try:
        outcome = rescore(jd.desk.settings, submission, document, recorded)
    except RescoreFailed as error:
        raise click.ClickException(str(error)) from None
    now_scorer = scorer_version(outcome.breakdown)
    jd.desk.record_access(acting, "read.rescore", submission.id, "ok")
    print_json(
        {
            "position": position,
            "submission": submission.id,
            "rules_version": score["rules_version"],
            "recorded_scorer": score["scoring_version"],
            "scorer": now_scorer,
            "scorer_changed": now_scorer != score["scoring_version"],
            **outcome.as_json(),
        }
    )


@click.command("rebuild")
@refusals_on_one_line
def audit_rebuild() -> None:
    """Rebuild every read model from the log into a fresh database and compare it with the
    live one, row by row; exit 1 and name each difference when they differ."""
    jd = JudgingDesk.open()
    acting = signed_in(jd.desk)
    acting.require(*AUDITORS, action="check the read models against the log")
    differences = compare_read_models(jd.judging, lambda contest_id: jd.rules(contest_id)[0])
    jd.desk.record_access(acting, "read.rebuild_check", "", "ok")
    for line in differences:
        click.echo(line)
    if differences:
        click.echo(f"NOT THE SAME: {len(differences)} differences")
        sys.exit(1)
    click.echo("the read models are what the log says")
