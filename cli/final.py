"""``huiyan final ...``: the finalists of a track, the on-site scores, the final ranking, the
awards and their certificates (docs/judging.md, "The final round").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import click

from cli.common import asked, print_json, signing_options
from cli.judging import OUT, judged, pairs, track_option
from domain.accounts import Actor, Role
from domain.contest import Contest
from services.judging_steps import JudgingDesk, advance, award, certificate, final_standings


@click.group()
def final() -> None:
    """The final round: finalists, on-site scores, awards, certificates."""


@final.command("advance")
@track_option
@signing_options
@judged
def final_advance_command(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    track: int,
    password_stdin: bool,
    code: str | None,
) -> None:
    """Name the track's finalists: the top N of the standings (the organiser, signed:
    published). Prints them."""
    chosen = advance(
        jd, acting, contest.id, track, jd.desk.signer(acting, asked(password_stdin, code))
    )
    print_json([{"team": jd.judging.team(f["team_id"]).name, **f} for f in chosen])


@final.command("finalists")
@track_option
@judged
def final_finalists(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """The track's finalists with their names (identity is visible in the final round)."""
    acting.require(Role.ORGANISER, Role.EXPERT, action="see the finalists")
    found = jd.judging.final_round(contest.id, track)
    print_json([{"team": jd.judging.team(f["team_id"]).name, **f} for f in found.finalists])


@final.command("score")
@track_option
@click.option("--team", "team_id", type=click.UUID, required=True)
@click.option("--score", "scores", multiple=True, required=True,
              help="DIMENSION=NUMBER for every final dimension (repeat).")  # fmt: skip
@signing_options
@judged
def final_score(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    track: int,
    team_id: UUID,
    scores: tuple[str, ...],
    password_stdin: bool,
    code: str | None,
) -> None:
    """Score a finalist on site (an expert, signed: scored)."""
    rules = jd.rules(contest.id)[0]
    jd.judging.score_final(
        contest.id,
        track,
        team_id,
        dimensions=pairs(scores, float, "--score"),
        names=tuple(rules.final.weights),
        scale_max=rules.final.scale_max,
        actor=acting,
        now=jd.desk.now,
        signer=jd.desk.signer(acting, asked(password_stdin, code)),
    )


@final.command("standings")
@track_option
@judged
def final_standings_command(jd: JudgingDesk, acting: Actor, contest: Contest, track: int) -> None:
    """The final ranking as the on-site scores stand, with the award each place gets."""
    acting.require(Role.ORGANISER, action="read the final standings")
    print_json(_named(jd, final_standings(jd, contest.id, track)))


def _named(jd: JudgingDesk, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"team": jd.judging.team(line["team_id"]).name, **line} for line in lines]


@final.command("award")
@track_option
@signing_options
@judged
def final_award_command(
    jd: JudgingDesk,
    acting: Actor,
    contest: Contest,
    track: int,
    password_stdin: bool,
    code: str | None,
) -> None:
    """Give the track's awards down the final ranking (the organiser, signed: awarded)."""
    awards = award(
        jd, acting, contest.id, track, jd.desk.signer(acting, asked(password_stdin, code))
    )
    print_json(_named(jd, awards))


@final.command("certificate")
@track_option
@click.option("--team", "team_id", type=click.UUID, required=True)
@click.option("--out", "out", type=OUT, required=True)
@judged
def final_certificate_command(
    jd: JudgingDesk, acting: Actor, contest: Contest, track: int, team_id: UUID, out: Path
) -> None:
    """Write the award certificate of a team (the organiser or the team's members): a PDF
    carrying the award's ledger position, leaf hash and a checkpoint that includes it, so
    anyone can check it (``huiyan certificate verify``)."""
    acting.require_reader_of(team_id, "a certificate")
    data, position, leaf_hash = certificate(jd, contest, track, team_id)
    out.write_bytes(data)
    click.echo(f"{out} position {position} leaf {leaf_hash}")
