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

from audit.matter import appeal_matter, timeline
from audit.rescore import RescoreFailed, rescore
from cli.common import FILE, asked, print_json, signing_options
from cli.judging import judged, track_option
from domain.accounts import Actor, Role
from domain.appeals import Appeal
from domain.contest import Contest
from domain.errors import AppealNotYours
from services import strict_files
from services.appeal_filing import (
    REASONS_LIMIT,
    appeal_reasons,
    appeal_view,
    file_appeal,
    reasons_text,
    require_appeal_reader,
)
from services.judging_steps import JudgingDesk, appeals_for, carry_out_rescore


@click.group()
def appeal() -> None:
    """Appeals against a score item, and their arbitration."""


def _rules_of_appeals(jd: JudgingDesk, contest_id: UUID) -> Any:
    return jd.rules(contest_id)[0].appeals


def _reasons_file(path: Path) -> bytes:
    """Reasons given in a file: read with the cap, UTF-8, not empty."""
    return reasons_text(path, strict_files.read_capped(path, REASONS_LIMIT))


def _reasons(jd: JudgingDesk, team_id: UUID, path: Path) -> str:
    """The reasons' text, sealed under the team's key; its hash."""
    return jd.desk.vault.seal_to(jd.desk.blobs, team_id, _reasons_file(path))


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
            require_appeal_reader(acting, found)
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
    require_appeal_reader(acting, found)
    view = appeal_view(found)
    if with_reasons:
        view |= appeal_reasons(jd, acting, found)
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


def _arbitrating(jd: JudgingDesk, acting: Actor, appeal_id: UUID) -> Appeal:
    found = jd.judging.appeal(appeal_id)
    if acting.role is Role.ORGANISER:
        return found
    acting.require(Role.ARBITRATOR, action="replay an appeal")
    if acting.account_id not in found.arbitrators:
        raise AppealNotYours(appeal=found.id)
    return found


@appeal.command("replay")
@click.argument("appeal_id", type=click.UUID)
@judged
def appeal_replay(jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID) -> None:
    """The matter's events in ledger order with the status of every signature (the drawn
    arbitrators and the organiser)."""
    found = _arbitrating(jd, acting, appeal_id)
    print_json(timeline(jd.ledger, appeal_matter(jd.judging, found)))


@appeal.command("rescore")
@click.argument("appeal_id", type=click.UUID)
@click.option("--rules-version", type=int, help="Score under this published version instead.")
@judged
def appeal_rescore(
    jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID, rules_version: int | None
) -> None:
    """Re-score the entry from its recorded inputs: "same bytes", or the figures that differ."""
    found = _arbitrating(jd, acting, appeal_id)
    submission = jd.judging.submission(found.submission_id)
    version = rules_version or submission.rules_version
    document = jd.rules_document(found.contest_id, version)[0]
    try:
        outcome = rescore(jd.desk.settings, submission, document)
    except RescoreFailed as error:
        raise click.ClickException(str(error)) from None
    print_json({"rules_version": version, **outcome.as_json()})


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
    found = jd.judging.appeal(appeal_id)
    ordered: dict[str, Any] | None = None
    if remedy is not None:
        ordered = {"kind": remedy}
        if rules_version is not None:
            ordered["rules_version"] = rules_version
        if value is not None:
            ordered["value"] = _value(value)
    jd.judging.rule(
        appeal_id,
        outcome=outcome,
        remedy=ordered,
        reasons_sha256=_reasons(jd, found.team_id, reasons),
        remedies=_rules_of_appeals(jd, contest.id).remedies,
        actor=acting,
        now=jd.desk.now,
        signer=jd.desk.signer(acting, asked(password_stdin, code)),
    )
    click.echo(jd.judging.appeal(appeal_id).status.value)


def _value(text: str) -> bool | float:
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    try:
        return float(text)
    except ValueError:
        raise click.UsageError(f"--value {text!r} is not a number or true/false") from None


@appeal.command("remedy")
@click.argument("appeal_id", type=click.UUID)
@judged
def appeal_remedy(jd: JudgingDesk, acting: Actor, contest: Contest, appeal_id: UUID) -> None:
    """Carry out the re-score a ruling ordered (the organiser): it supersedes the score."""
    acting.require(Role.ORGANISER, action="carry out a re-score")
    breakdown = carry_out_rescore(jd, acting, appeal_id)
    click.echo(f"re-scored: {breakdown['primary']['name']} = {breakdown['primary']['value']}")
