"""``huiyan appeal ...``: a team's appeal, the draw of arbitrators, the arbitrator's replay and
re-score, the ruling and its remedy (docs/judging.md, "Appeals").

Reasons and evidence may name people: they are sealed under the team's key like every team
document, and the events carry their hashes. The arbitrator reads them here (each read is in
the access log), replays the matter with every signature checked, re-scores from the recorded
inputs, and rules under their personal signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import click

from cli.common import FILE, asked, print_json, signing_options
from cli.judging import judged, track_option
from domain.accounts import Actor, Role
from domain.contest import Contest
from services import strict_files
from services.appeal_filing import file_appeal
from services.arbitration import (
    REASONS_LIMIT,
    appeal_view,
    checked_reasons,
    reasons,
    replay,
    require_readable,
    rescore_appeal,
    rule,
    seal_reasons,
)
from services.judging_steps import JudgingDesk, appeals_for, carry_out_rescore

MAX_EVIDENCE = 10


@click.group()
def appeal() -> None:
    """Appeals against a score item, and their arbitration."""


def _rules_of_appeals(jd: JudgingDesk, contest_id: UUID) -> Any:
    return jd.rules(contest_id)[0].appeals


def _reasons_file(path: Path) -> bytes:
    """Reasons given in a file: read with the cap, UTF-8 (a file's own refusal names the
    file), not empty."""
    data = strict_files.read_capped(path, REASONS_LIMIT)
    strict_files.utf8(path, data)
    return checked_reasons(data)


def _reasons(jd: JudgingDesk, team_id: UUID, path: Path) -> str:
    """The reasons' text (UTF-8, not empty), sealed under the team's key; its hash."""
    data = strict_files.read_capped(path, REASONS_LIMIT)
    strict_files.utf8(path, data)  # a file's own refusal names the file
    return seal_reasons(jd, team_id, data)


@appeal.command("file")
@track_option
@click.option("--item", required=True, help="The score item: quality, efficiency, expert, gates.")
@click.option("--reasons", "reasons", type=FILE, required=True, help="Your reasons (UTF-8 text).")
@click.option("--evidence", "evidence", type=FILE, multiple=True, help="A PDF (repeat).")
@signing_options
@judged
def appeal_file(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    track: int,
    item: str,
    reasons: Path,
    evidence: tuple[Path, ...],
    password_stdin: bool,
    code: str | None,
) -> None:
    """Appeal against a score item of your team's entry (the leader, signed: appealed).
    Prints the appeal's id and whether arbitrators were drawn."""
    found = file_appeal(
        jd,
        acting,
        track,
        item=item,
        reasons=_reasons_file(reasons),
        evidence=evidence,
        signer=jd.desk.signer(acting, asked(password_stdin, code)),
    )
    click.echo(f"{found.id} {found.status.value}")
    if found.waiting:
        click.echo(f"waiting: {found.waiting}", err=True)


@appeal.command("list")
@judged
def appeal_list(jd: JudgingDesk, acting: Actor, contest: Contest) -> None:
    """The appeals you may see: all (the organiser), your team's, or those you arbitrate."""
    shown = []
    for found in appeals_for(jd, contest.id, acting):
        try:
            require_readable(acting, found)
        except Exception:  # noqa: BLE001 - not yours to see: left out of the list
            continue
        shown.append(appeal_view(found))
    print_json(shown)


@appeal.command("show")
@click.argument("appeal_id", type=click.UUID)
@click.option("--reasons", "with_reasons", is_flag=True, help="Include the unsealed reasons.")
@judged
def appeal_show(
    jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID, with_reasons: bool
) -> None:
    """One appeal, with its reasons and the ruling's reasons when asked."""
    found = jd.judging.appeal(appeal_id)
    require_readable(acting, found)
    view = appeal_view(found)
    if with_reasons:
        view["reasons"], ruled = reasons(jd, acting, found)
        if ruled is not None:
            view["ruling_reasons"] = ruled
    print_json(view)


@appeal.command("draw")
@click.argument("appeal_id", type=click.UUID)
@judged
def appeal_draw(jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID) -> None:
    """Draw the arbitrators of a waiting appeal again (the organiser, after enrolling more)."""
    rules = _rules_of_appeals(jd, contest.id)
    jd.judging.draw_again(appeal_id, arbitrators=rules.arbitrators, actor=acting, now=jd.desk.now)
    found = jd.judging.appeal(appeal_id)
    click.echo(f"{found.status.value}" + (f": {found.waiting}" if found.waiting else ""))


@appeal.command("replay")
@click.argument("appeal_id", type=click.UUID)
@judged
def appeal_replay(jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID) -> None:
    """The matter's events in ledger order with the status of every signature (the drawn
    arbitrators and the organiser)."""
    print_json(replay(jd, acting, appeal_id))


@appeal.command("rescore")
@click.argument("appeal_id", type=click.UUID)
@click.option("--rules-version", type=int, help="Score under this published version instead.")
@judged
def appeal_rescore(
    jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID, rules_version: int | None
) -> None:
    """Re-score the entry from its recorded inputs: "same bytes", or the figures that differ."""
    print_json(rescore_appeal(jd, acting, appeal_id, rules_version))


@appeal.command("rule")
@click.argument("appeal_id", type=click.UUID)
@click.option("--outcome", type=click.Choice(["dismissed", "upheld"]), required=True)
@click.option("--remedy", type=click.Choice(["rescore", "rereview", "correct"]),
              help="What an upheld appeal orders.")  # fmt: skip
@click.option("--rules-version", type=int, help="rescore: the rules version to score under.")
@click.option("--value", help="correct: the corrected value (0-1, or true/false for gates).")
@click.option("--reasons", "reasons", type=FILE, required=True, help="The ruling's reasons.")
@signing_options
@judged
def appeal_rule(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    appeal_id: UUID,
    outcome: str,
    remedy: str | None,
    rules_version: int | None,
    value: str | None,
    reasons: Path,
    password_stdin: bool,
    code: str | None,
) -> None:
    """Rule on an appeal you were drawn for (an arbitrator, signed: ruled)."""
    status = rule(
        jd,
        acting,
        appeal_id,
        outcome=outcome,
        remedy=remedy,
        rules_version=rules_version,
        value=value,
        reasons_text=strict_files.read_capped(reasons, REASONS_LIMIT),
        signer=jd.desk.signer(acting, asked(password_stdin, code)),
    )
    click.echo(status)


@appeal.command("remedy")
@click.argument("appeal_id", type=click.UUID)
@judged
def appeal_remedy(jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID) -> None:
    """Carry out the re-score a ruling ordered (the organiser): it supersedes the score."""
    acting.require(Role.ORGANISER, action="carry out a re-score")
    breakdown = carry_out_rescore(jd, acting, appeal_id)
    click.echo(f"re-scored: {breakdown['primary']['name']} = {breakdown['primary']['value']}")
