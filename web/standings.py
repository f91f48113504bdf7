"""A track's standings from what the ledger recorded: the preliminary composite (SCORING.md
§5: 0.6 quality, 0.1 efficiency, 0.3 expert, weights from the rules) and the final ranking.

The arithmetic is the scoring package's (scoring/ranking.py); this module only gathers the
recorded facts it needs: each reviewed entry's score as it stands (a re-score supersedes, a
correction overrides the item it names), the expert sheets of the round that counts, the
on-site scores. It decides nothing; publications and awards record what it computed, and the
domain checks what it can (gates, counts, finalists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.judging import Judging
from domain.review import Review
from domain.submissions import Submission
from scoring.ranking import (
    Entry,
    FinalEntry,
    aggregate_expert,
    awards_for,
    final_dimension_score,
    final_rank,
    rank,
    sheet_score,
)
from scoring.rules import Rules


@dataclass(frozen=True)
class Standing:
    """One team's line of a track's preliminary standings."""

    team_id: UUID
    submission_id: UUID
    pseudonym: str
    rank: int | None  # None: left out for a gate failure
    composite: float | None
    quality: float
    efficiency: float
    expert: float | None
    gates_passed: bool
    corrected: tuple[str, ...]  # the items an upheld appeal corrected

    def record(self) -> dict[str, Any]:
        """What a publication records (ids and figures; names are shown, never recorded)."""
        return {
            "team_id": self.team_id,
            "submission_id": self.submission_id,
            "rank": self.rank,
            "composite": self.composite,
            "quality": self.quality,
            "efficiency": self.efficiency,
            "expert": self.expert,
            "gates_passed": self.gates_passed,
        }


def figures(submission: Submission, review: Review, rules: Rules) -> dict[str, Any]:
    """The entry's four items as they stand now."""
    score = submission.score
    assert score is not None  # a review is opened on a scored entry only
    expert = (
        aggregate_expert(
            [sheet_score(sheet, rules.expert_rubric) for sheet in review.sheets], rules.review
        )
        if review.complete
        else None
    )
    items: dict[str, Any] = {
        "quality": float(score["breakdown"]["primary"]["value"]),
        "efficiency": float(score["efficiency"] or 0.0),
        "expert": expert,
        "gates": bool(score["gates_passed"]),
    }
    for item, correction in submission.corrections.items():
        items[item] = correction["value"]
    return items


def preliminary(judging: Judging, contest_id: UUID, track: int, rules: Rules) -> list[Standing]:
    """Every reviewed entry of the track, ranked when its review is complete and its gates
    passed; the others follow, unranked."""
    reviews = judging.reviews(contest_id, track)
    lines: dict[str, tuple[Review, Submission, dict[str, Any]]] = {}
    entries = []
    for review in reviews:
        submission = judging.submission(review.submission_id)
        items = figures(submission, review, rules)
        lines[str(review.team_id)] = (review, submission, items)
        if items["expert"] is not None:
            entries.append(
                Entry(
                    team=str(review.team_id),
                    quality=items["quality"],
                    efficiency=items["efficiency"],
                    expert=items["expert"],
                    gates_passed=items["gates"],
                    submitted_at=submission.submitted_at,
                )
            )
    ranked, _ = rank(entries, rules)
    placed = {r.team: r for r in ranked}
    standings = []
    for team, (review, submission, items) in lines.items():
        found = placed.get(team)
        standings.append(
            Standing(
                team_id=review.team_id,
                submission_id=submission.id,
                pseudonym=review.pseudonym,
                rank=found.rank if found else None,
                composite=found.preliminary_score if found else None,
                quality=items["quality"],
                efficiency=items["efficiency"],
                expert=items["expert"],
                gates_passed=items["gates"],
                corrected=tuple(sorted(submission.corrections)),
            )
        )
    return sorted(standings, key=lambda s: (s.rank is None, s.rank or 0, s.pseudonym))


def finalists(standings: list[Standing], rules: Rules) -> list[dict[str, Any]]:
    """The top N ranked teams (a gate failure is never ranked, so never advances); a tie at
    the boundary takes every team of that rank in."""
    ranked = [s for s in standings if s.rank is not None and s.gates_passed]
    limit = rules.final.advance_per_track
    chosen = [s for s in ranked if s.rank <= limit]
    return [
        {
            "team_id": s.team_id,
            "submission_id": s.submission_id,
            "rank": s.rank,
            "preliminary_score": s.composite,
        }
        for s in chosen
    ]


def final(judging: Judging, contest_id: UUID, track: int, rules: Rules) -> list[dict[str, Any]]:
    """The final ranking of the track's scored finalists, with the award each one gets."""
    round_ = judging.final_round(contest_id, track)
    entries = []
    for finalist in round_.finalists:
        sheets = round_.sheets_of(finalist["team_id"])
        if not sheets:
            continue
        submission = judging.submission(finalist["submission_id"])
        score = submission.score
        assert score is not None
        entries.append(
            FinalEntry(
                team=str(finalist["team_id"]),
                dimensions=final_dimension_score(sheets, rules.final),
                quality=float(score["breakdown"]["primary"]["value"]),
                efficiency=float(score["efficiency"] or 0.0),
                submitted_at=submission.submitted_at,
            )
        )
    ranked = final_rank(entries, rules)
    awards = {placed.team: award for placed, award in awards_for(ranked, rules.final)}
    return [
        {
            "team_id": UUID(placed.team),
            "rank": placed.rank,
            "final_score": placed.final_score,
            "dimensions": dict(placed.entry.dimensions),
            "award": awards[placed.team].key if placed.team in awards else None,
        }
        for placed in ranked
    ]
