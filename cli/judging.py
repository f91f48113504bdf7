"""``huiyan judging ...`` (the anonymised review) and ``huiyan results ...`` (standings,
publication, leaderboard, a team's own score, the organiser's export); docs/judging.md.

An expert's every answer here names an entry by its pseudonym only: tasks, the sanitised
report, the aggregate metrics. The organiser prepares the review of a track (admits the
entries, checks each report for what would identify the team, assigns experts), and sees the
names the check found in a held report, to ask the team for a clean one.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
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
from domain.contest import Contest
from domain.errors import NotPermitted
from domain.judging_read_models import ReviewListing
from services.judging_steps import (
    JudgingDesk,
    prepare_review,
    publish_results,
    review_progress,
    tasks,
)
from services.result_evidence import score_entries
from services.review_tasks import sanitised_report, score, task_view
from services.standings import Standing
from services.uploads import read_pdf

PSEUDONYM_DRAWS = 8
OUT = click.Path(dir_okay=False, path_type=Path)


def judged(command: Callable[..., Any]) -> Callable[..., Any]:
    """Opens the judging desk, signs the person in and passes ``(jd, acting, contest)``."""

    @contest_option
    @refusals_on_one_line
    @functools.wraps(command)
    def wrapper(slug: str | None, **kwargs: Any) -> Any:
        jd = JudgingDesk.open()
        acting = signed_in(jd.desk)
        return command(jd, acting, jd.desk.contest(slug), **kwargs)

    return wrapper


def track_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--track", type=click.IntRange(1, 8), required=True, help="1-8")(command)


# --- the anonymised review --------------------------------------------------------------------


@click.group()
def judging() -> None:
    """The anonymised expert review of the preliminary round."""


@judging.command("prepare")
@track_option
@judged
def judging_prepare(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """Admit the track's entries under pseudonyms, check every report for what would name the
    team, and assign k experts to each clean one (the organiser). Run it again after a team
    sent a clean report or experts were enrolled. Prints each entry's state in JSON."""
    print_json(prepare_review(jd, acting, contest.id, track))


@judging.command("progress")
@track_option
@judged
def judgingprogress(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """Where the review of the track stands, entry by entry (the organiser)."""
    acting.require(Role.ORGANISER, action="follow the expert review")
    print_json(review_progress(jd, contest.id, track))


@judging.command("replace-report")
@click.argument("submission_id", type=click.UUID)
@click.option("--report", "path", type=FILE, required=True, help="The clean report, PDF.")
@judged
def judging_replace_report(
    jd: JudgingDesk, acting: Actor, contest: Contest, submission_id: UUID, path: Path
) -> None:
    """Send a clean technical report when the anonymity check held yours (the leader)."""
    desk = jd.desk
    found = jd.judging.submission(submission_id)
    acting.require_leader_of(found.team_id, action="replace the technical report")
    sealed = desk.vault.seal_to(desk.blobs, found.team_id, read_pdf(path).data)
    jd.judging.replace_report(submission_id, report_sha256=sealed, actor=acting, now=desk.now)


@judging.command("tasks")
@judged
def judging_tasks(jd: JudgingDesk, acting: Actor, contest: Contest) -> None:
    """Your review tasks (an expert): each entry by pseudonym with its aggregate metrics."""
    print_json([_task_view(jd, review, acting) for review in tasks(jd, contest.id, acting)])


def _task_view(jd: JudgingDesk, review: ReviewListing, acting: Actor) -> dict[str, Any]:
    """Everything an expert learns of an entry (services/review_tasks.py), and how to read
    its report."""
    view = task_view(jd, review, acting)
    view["report"] = "huiyan judging report " + review.pseudonym + " --out FILE"
    return view


@judging.command("report")
@click.argument("pseudonym")
@click.option("--out", "out", type=OUT, required=True)
@judged
def judging_report(
    jd: JudgingDesk, acting: Actor, contest: Contest, pseudonym: str, out: Path
) -> None:
    """Write the sanitised report of one of your entries to --out (an expert)."""
    out.write_bytes(sanitised_report(jd, acting, contest.id, pseudonym))


@judging.command("score")
@click.argument("pseudonym")
@click.option("--grade", "grades", multiple=True, required=True,
              help="DIMENSION=LEVEL for every rubric dimension (repeat).")  # fmt: skip
@signing_options
@judged
def judging_score(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    pseudonym: str,
    grades: tuple[str, ...],
    password_stdin: bool,
    code: str | None,
) -> None:
    """Grade an entry on the published rubric (an expert, signed: scored)."""
    given = pairs(grades, int, "--grade")
    signer = jd.desk.signer(acting, asked(password_stdin, code))
    score(jd, acting, contest.id, pseudonym, given, signer)


def pairs(given: tuple[str, ...], kind: type, option: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for text in given:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"{option} {text!r}: write NAME=VALUE")
        if name.strip() in pairs:
            raise click.UsageError(f"{option}: {name.strip()} is given twice")
        try:
            pairs[name.strip()] = kind(value.strip())
        except ValueError:
            message = f"{option} {text!r}: {value.strip()!r} is not a number"
            raise click.UsageError(message) from None
    return pairs


# --- results ----------------------------------------------------------------------------------


@click.group()
def results() -> None:
    """Preliminary standings, their publication, the leaderboard and the export."""


@results.command("standings")
@track_option
@judged
def results_standings(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """The track's standings as they stand now, with names (the organiser)."""
    acting.require(Role.ORGANISER, action="read the standings")
    print_json(_named(jd.team_names(contest.id), jd.standings(contest.id, track)))


def _named(names: dict[UUID, str], lines: list[Standing]) -> list[dict[str, Any]]:
    return [
        {"team": names[s.team_id], "pseudonym": s.pseudonym, **s.record(),
         "corrected": list(s.corrected)}
        for s in lines
    ]  # fmt: skip


@results.command("publish")
@track_option
@click.option("--mode", type=click.Choice(["hidden", "ranks", "full"]), required=True)
@click.option("--freeze-at", "freeze_at", required=True,
              help="ISO time with zone; later entries wait for the next publication.")  # fmt: skip
@signing_options
@judged
def results_publish(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    track: int,
    mode: str,
    freeze_at: str,
    password_stdin: bool,
    code: str | None,
) -> None:
    """Publish the track's results (the organiser, signed: published); prints the number."""
    number = publish_results(
        jd,
        acting,
        contest.id,
        track,
        mode=mode,
        freeze_at=_aware(freeze_at, "--freeze-at"),
        signer=jd.desk.signer(acting, asked(password_stdin, code)),
    )
    click.echo(number)


def _aware(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.UsageError(f"{option} {text!r} is not an ISO time") from None
    if value.tzinfo is None:
        raise click.UsageError(f"{option} {text!r} needs a time zone, e.g. +08:00")
    return value


@results.command("leaderboard")
@track_option
@judged
def results_leaderboard(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """The track's leaderboard as published: ranks and names, or the full figures; entries
    submitted after the freeze wait for the next publication. Teams and the organiser."""
    if acting.role not in (Role.ORGANISER, Role.TEAM_MEMBER):
        raise NotPermitted(role=acting.role.value, action="read the leaderboard")
    print_json(jd.leaderboard(contest.id, track))


@results.command("mine")
@track_option
@judged
def results_mine(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """Your team's score in the track, every indicator of it (a team member)."""
    acting.require(Role.TEAM_MEMBER, action="read the team's score")
    assert acting.team_id is not None
    jd.desk.require_read(acting, acting.team_id, "read.results", "a team's results")
    print_json(jd.team_results(contest.id, track, acting.team_id))


@results.command("export")
@track_option
@click.option("--format", "form", type=click.Choice(["csv", "json"]), required=True)
@click.option("--out", "out", type=OUT, required=True)
@judged
def results_export(
    jd: JudgingDesk, acting: Actor, contest: Contest, track: int, form: str, out: Path
) -> None:
    """Export the track's results (the organiser): each line with the rules and scorer
    versions and the ledger position and leaf hash of every recorded score it uses."""
    acting.require(Role.ORGANISER, action="export the results")
    reads = jd.reads()
    names = reads.team_names(contest.id)
    reviews = {r.submission_id: r for r in reads.judging.reviews(contest.id, track)}
    rows = [
        _export_row(jd, names[s.team_id], reviews[s.submission_id], s)
        for s in jd.standings(contest.id, track)
    ]
    if form == "json":
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["team"])
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()}
            )
        out.write_text(buffer.getvalue())
    click.echo(f"{len(rows)} lines")


def _export_row(
    jd: JudgingDesk, team: str, review: ReviewListing, line: Standing
) -> dict[str, Any]:
    submission = jd.judging.submission(line.submission_id)  # its score's versions, by id
    assert submission.score is not None
    used = [
        f"{entry.position}:{entry.leaf_hash.hex()}"
        for entry in score_entries(jd, submission.id, review)
    ]
    return {
        "team": team,
        "team_id": str(line.team_id),
        "pseudonym": line.pseudonym,
        "rank": line.rank,
        "composite": line.composite,
        "quality": line.quality,
        "efficiency": line.efficiency,
        "expert": line.expert,
        "gates_passed": line.gates_passed,
        "rules_version": submission.score["rules_version"],
        "rules_sha256": submission.score["rules_sha256"],
        "scorer_version": submission.score["scoring_version"],
        "scores": used,
    }
