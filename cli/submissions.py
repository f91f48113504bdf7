"""Commands of the preliminary round: ``huiyan submit``, ``huiyan submission show|list``,
``huiyan team status``, ``huiyan testset add`` and ``huiyan debug-phase open|close``.

They share the registration commands' desk, signed-in person and one-line refusals
(cli/common.py): a refused command prints ``error: <message> [<key>]`` and exits 2. The file
work (unpacking a model, sealing the report, copying a test set) is services/submissions.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import click

from cli.common import FILE, contest_option, print_json, refusals_on_one_line, signed_in
from cli.registration import team
from domain.debug_phase import DEFAULT_LOG_CAP
from domain.team_overview import read_team_overview, render_text
from ledger.blobs import BlobError
from ledger.console import progress_display
from services.read_models import listings
from services.submissions import SUBMIT_STEPS, RoundDesk, add_testset, submit_model

# --- submit ------------------------------------------------------------------------------------


@click.command("submit")
@click.option("--team", "team_id", type=click.UUID, required=True)
@click.option("--track", type=int, required=True)
@click.option(
    "--model",
    "model",
    required=True,
    help="A bundle folder or a .tar(.gz)/.zip of one, or a Docker image reference.",
)
@click.option("--report", "report", type=FILE, required=True, help="The technical report, PDF.")
@refusals_on_one_line
def submit(team_id: UUID, track: int, model: str, report: Path) -> None:
    """Submit a model and its technical report for a track; prints the submission id."""
    round_desk = RoundDesk.open()
    acting = signed_in(round_desk.desk)
    with progress_display() as bar:
        task = bar.add_task("submit", total=len(SUBMIT_STEPS))
        submission_id = submit_model(
            round_desk,
            team_id,
            track,
            model,
            report,
            acting,
            step=lambda name: bar.update(
                task, completed=SUBMIT_STEPS.index(name), description=f"submit: {name}"
            ),
        )
        bar.update(task, completed=len(SUBMIT_STEPS))
    click.echo(submission_id)


# --- submissions -------------------------------------------------------------------------------


@click.group()
def submission() -> None:
    """What a team may see of its submissions."""


@submission.command("show")
@click.argument("submission_id", type=click.UUID)
@refusals_on_one_line
def submission_show(submission_id: UUID) -> None:
    """The team's view of one submission, in JSON: metrics and the reason of a failure;
    the model's log (capped) only while the debug phase is open."""
    round_desk = RoundDesk.open()
    desk, app = round_desk.desk, round_desk.submissions
    acting = signed_in(desk)
    found = app.submission(submission_id)
    desk.require_read(acting, found.team_id, "read.results", "a team's results")
    desk.record_access(acting, "read.results", submission_id, "ok")
    log = None
    if app.debug_phase(found.contest_id).is_open:
        log = _log(round_desk, found.failure or found.inference or {})
    print_json(app.team_view(submission_id, log=log))


@submission.command("list")
@click.option("--team", "team_id", type=click.UUID, required=True)
@refusals_on_one_line
def submission_list(team_id: UUID) -> None:
    """A team's submissions, oldest first: id, track, status."""
    round_desk = RoundDesk.open()
    desk, app = round_desk.desk, round_desk.submissions
    acting = signed_in(desk)
    desk.require_read(acting, team_id, "read.results", "a team's results")
    desk.record_access(acting, "read.results", team_id, "ok")
    print_json(
        [
            {
                "id": found.id,
                "track": found.track,
                "status": found.status.value,
                "submitted_at": found.submitted_at,
            }
            for found in listings(app).submissions(team_id=team_id)
        ]
    )


@submission.command("report")
@click.argument("submission_id", type=click.UUID)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@refusals_on_one_line
def submission_report(submission_id: UUID, out: Path) -> None:
    """Write a submission's technical report (unsealed PDF) to --out; the organiser or the
    team's own members. Every read is in the access log."""
    round_desk = RoundDesk.open()
    desk = round_desk.desk
    acting = signed_in(desk)
    found = round_desk.submissions.submission(submission_id)
    desk.require_read(acting, found.team_id, "read.report", "a technical report")
    data = desk.vault.open_from(desk.blobs, found.team_id, found.report_sha256)
    desk.record_access(acting, "read.report", submission_id, "ok")
    out.write_bytes(data)


def _log(round_desk: RoundDesk, facts: dict[str, Any]) -> bytes | None:
    digest = facts.get("log_sha256")
    if not digest:
        return None
    try:
        return round_desk.desk.blobs.get(digest)
    except BlobError:
        return None


# --- what a team sees --------------------------------------------------------------------------


@team.command("status")
@click.argument("team_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="The same facts in JSON.")
@refusals_on_one_line
def team_status(team_id: UUID, as_json: bool) -> None:
    """What a team sees: submissions left per track today and in total, its submissions newest
    first with their score or why they failed, the leaderboard; in the team's language. For
    the organiser and the team's own members."""
    round_desk = RoundDesk.open()
    desk = round_desk.desk
    acting = signed_in(desk)
    desk.require_read(acting, team_id, "read.results", "a team's status")
    desk.record_access(acting, "read.results", team_id, "ok")
    overview = read_team_overview(
        round_desk.submissions,
        team_id,
        actor=acting,
        now=desk.now,
        read_log=lambda digest: _log(round_desk, {"log_sha256": digest}),
        submission_ids=[
            found.id for found in listings(round_desk.submissions).submissions(team_id=team_id)
        ],
    )
    if as_json:
        print_json(overview)
    else:
        app = round_desk.submissions
        click.echo(render_text(overview, app.contest(app.team(team_id).contest_id)))


# --- test sets ---------------------------------------------------------------------------------


@click.group()
def testset() -> None:
    """The hidden test sets each track is scored on."""


@testset.command("add")
@click.option("--track", type=int, required=True)
@click.option(
    "--dir",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A dataset folder with input/ and truth/ (as `huiyan data synth` writes).",
)
@click.option("--reason", default="", help="Why, when replacing a set during the round.")
@click.option(
    "--public",
    is_flag=True,
    help="A public debug set (data the teams may see): only its runs' logs are ever shown.",
)
@contest_option
@refusals_on_one_line
def testset_add(track: int, folder: Path, reason: str, public: bool, slug: str | None) -> None:
    """Copy a test set into HUIYAN_HOME/testsets/<sha256>/ and make it the track's current
    one; prints its SHA-256 and its number of cases. Sets are hidden unless --public."""
    round_desk = RoundDesk.open()
    desk = round_desk.desk
    digest, cases = add_testset(
        round_desk,
        desk.contest(slug),
        track,
        folder,
        signed_in(desk),
        reason=reason,
        public=public,
    )
    click.echo(f"{digest} {cases} cases")


# --- the debug phase ---------------------------------------------------------------------------


@click.group("debug-phase")
def debug_phase() -> None:
    """While open, teams read the head of their models' logs."""


@debug_phase.command("open")
@click.option(
    "--log-cap",
    type=click.IntRange(min=1),
    default=DEFAULT_LOG_CAP,
    show_default=True,
    help="Bytes of a log a team may read.",
)
@contest_option
@refusals_on_one_line
def debug_phase_open(log_cap: int, slug: str | None) -> None:
    round_desk = RoundDesk.open()
    desk = round_desk.desk
    round_desk.submissions.open_debug_phase(
        desk.contest(slug).id, actor=signed_in(desk), now=desk.now, log_cap=log_cap
    )


@debug_phase.command("close")
@contest_option
@refusals_on_one_line
def debug_phase_close(slug: str | None) -> None:
    round_desk = RoundDesk.open()
    desk = round_desk.desk
    round_desk.submissions.close_debug_phase(
        desk.contest(slug).id, actor=signed_in(desk), now=desk.now
    )
