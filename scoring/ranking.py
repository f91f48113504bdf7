"""Preliminary and final scores, the ranking of a track, and the awards (SCORING.md §5).

Weights, grade levels, the review's aggregation, the final round's scale and awards, and the
order of tie-breaks are read from the rules; only teams that passed both gates are ranked in
the preliminary round. Teams equal on the score and on every tie-break share a rank
(competition ranking: 1, 1, 3), listed by team id so the output is the same every time.
Scores are compared rounded to the rules' ``tie_decimals``. The preliminary and the final
ranking share one ordering (``_competition_rank``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from scoring.rules import Award, ExpertRubric, FinalRules, ReviewRules, Rules


@dataclass(frozen=True)
class Entry:
    """One team's standing in a track: quality is the track's primary metric (0-1)."""

    team: str
    quality: float
    efficiency: float
    expert: float
    gates_passed: bool
    submitted_at: datetime


@dataclass(frozen=True)
class Ranked:
    rank: int
    team: str
    preliminary_score: float
    entry: Entry


@dataclass(frozen=True)
class FinalEntry:
    """One finalist of a track: the four final dimensions (0-1 each, from
    ``final_dimension_score``), and the quality (primary metric) and efficiency that the
    tie-breaks read, as in the preliminary round."""

    team: str
    dimensions: Mapping[str, float]
    quality: float
    efficiency: float
    submitted_at: datetime


@dataclass(frozen=True)
class FinalRanked:
    rank: int
    team: str
    final_score: float
    entry: FinalEntry


# --- expert review ------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float:
    """The mean, correctly rounded sum over count, kept within [min, max]: the division may
    round past the extremes by one unit in the last place (three equal values)."""
    return min(max(math.fsum(values) / len(values), min(values)), max(values))


def sheet_score(sheet: Mapping[str, int], rubric: ExpertRubric) -> float:
    """One expert's sheet: the mean of its grades over the top grade, in [0, 1]. The sheet must
    grade exactly the rubric's dimensions, each with one of the published levels."""
    if set(sheet) != set(rubric.dimensions):
        raise ValueError(f"a sheet must grade exactly {', '.join(rubric.dimensions)}")
    for dimension in rubric.dimensions:
        grade = sheet[dimension]
        if isinstance(grade, bool) or not isinstance(grade, int) or grade not in rubric.grades:
            raise ValueError(f"{dimension} grade {grade!r} is not a level")
    return _mean(list(sheet.values())) / rubric.top_grade


def expert_score(grades: Sequence[Mapping[str, int]], rubric: ExpertRubric) -> float:
    """Mean of every expert's grade on every rubric dimension, divided by the top grade: the
    plain mean of the sheets' scores (every sheet grades the same dimensions)."""
    if not grades:
        raise ValueError("no expert grades")
    scores = []
    for index, sheet in enumerate(grades):
        try:
            scores.append(sheet_score(sheet, rubric))
        except ValueError as error:
            raise ValueError(f"expert sheet {index}: {error}") from None
    return _mean(scores)


def aggregate_expert(sheet_scores: Sequence[float], review: ReviewRules) -> float:
    """A submission's expert score from its sheets' scores, as the rules' review says: the mean,
    or the trimmed mean (sorted, ``trim`` dropped at each end, the mean of the rest)."""
    if not sheet_scores:
        raise ValueError("no expert sheets to aggregate")
    for index, score in enumerate(sheet_scores):
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise ValueError(f"sheet score {index} must be a number, got {score!r}")
        if not 0.0 <= score <= 1.0:  # also refuses NaN
            raise ValueError(f"sheet score {index} must be in [0, 1], got {score!r}")
    kept = sorted(sheet_scores)
    if review.aggregation == "trimmed_mean":
        needed = 2 * review.trim + 1
        if len(kept) < needed:
            raise ValueError(
                f"the trimmed mean drops {review.trim} sheets at each end and needs at least "
                f"{needed} sheets, got {len(kept)}"
            )
        kept = kept[review.trim : len(kept) - review.trim]
    elif review.aggregation != "mean":
        raise ValueError(f"unknown aggregation {review.aggregation!r}")
    return _mean(kept)


# --- scores -------------------------------------------------------------------------------------


def preliminary_score(entry: Entry, rules: Rules) -> float:
    weights = rules.weights
    parts = {"quality": entry.quality, "efficiency": entry.efficiency, "expert": entry.expert}
    _require_unit(entry.team, parts)
    return sum(weights[name] * parts[name] for name in ("quality", "efficiency", "expert"))


def final_dimension_score(
    scores: Sequence[Mapping[str, float]], final: FinalRules
) -> dict[str, float]:
    """The on-site experts' numbers (each in [0, scale_max], one mapping per expert) to one
    score per final dimension: their mean over ``scale_max``, in [0, 1]."""
    if not scores:
        raise ValueError("no on-site expert scores")
    dimensions = tuple(final.weights)
    for index, sheet in enumerate(scores):
        if set(sheet) != set(dimensions):
            raise ValueError(f"on-site sheet {index} must score exactly {', '.join(dimensions)}")
        for dimension in dimensions:
            value = sheet[dimension]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"on-site sheet {index}: {dimension} must be a number")
            if not 0.0 <= value <= final.scale_max:  # also refuses NaN
                raise ValueError(
                    f"on-site sheet {index}: {dimension} must be in [0, {final.scale_max:g}],"
                    f" got {value!r}"
                )
    return {name: _mean([sheet[name] for sheet in scores]) / final.scale_max for name in dimensions}


def final_score(dimensions: Mapping[str, float], rules: Rules) -> float:
    """Final round: each dimension scored 0-1, weighted by the rules (25 % each by default)."""
    if set(dimensions) != set(rules.final_weights):
        raise ValueError(f"final score needs exactly {', '.join(rules.final_weights)}")
    _require_unit("final score", dimensions)
    return sum(rules.final_weights[name] * dimensions[name] for name in rules.final_weights)


def _require_unit(who: str, parts: Mapping[str, float]) -> None:
    for name, value in parts.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{who}: {name} must be in [0, 1], got {value!r}")


# --- rankings -----------------------------------------------------------------------------------


class _Standing(Protocol):
    """What the tie-breaks read: an Entry or a FinalEntry."""

    @property
    def team(self) -> str: ...
    @property
    def quality(self) -> float: ...
    @property
    def efficiency(self) -> float: ...
    @property
    def submitted_at(self) -> datetime: ...


_S = TypeVar("_S", bound=_Standing)
_R = TypeVar("_R")


def _competition_rank(
    scored: Sequence[tuple[float, _S]], rules: Rules, make: Callable[[int, str, float, _S], _R]
) -> list[_R]:
    """Order (score, standing) pairs best first and give competition ranks: by the score rounded
    to ``tie_decimals``, then the tie-breaks in the rules' order; fully equal standings share a
    rank and are listed by team id."""
    teams = [standing.team for _, standing in scored]
    if len(set(teams)) != len(teams):
        raise ValueError("a team appears twice in one ranking")

    def order(score: float, standing: _S) -> tuple:
        breaks = {
            "primary_metric": -standing.quality,
            "efficiency": -standing.efficiency,
            "submission_time": standing.submitted_at,
        }
        # Float sums of equal scores can differ in the last bit: compare at the published
        # precision, so that a tie is a tie and the published tie-breaks decide it.
        return (-round(score, rules.tie_decimals), *(breaks[name] for name in rules.tie_break))

    keyed = sorted(
        ((order(score, standing), standing.team, score, standing) for score, standing in scored),
        key=lambda item: (item[0], item[1]),
    )
    ranked: list[_R] = []
    rank = 0
    for position, (key, team, score, standing) in enumerate(keyed, start=1):
        if position == 1 or key != keyed[position - 2][0]:
            rank = position
        ranked.append(make(rank, team, score, standing))
    return ranked


def rank(entries: Sequence[Entry], rules: Rules) -> tuple[list[Ranked], list[str]]:
    """Ranked teams that passed both gates, and the ids of those left out for a gate failure."""
    teams = [e.team for e in entries]
    if len(set(teams)) != len(teams):
        raise ValueError("a team appears twice in one ranking")
    scored = [(preliminary_score(e, rules), e) for e in entries if e.gates_passed]
    ranked = _competition_rank(scored, rules, Ranked)
    left_out = sorted(e.team for e in entries if not e.gates_passed)
    return ranked, left_out


def final_rank(entries: Sequence[FinalEntry], rules: Rules) -> list[FinalRanked]:
    """The final ranking of a track's finalists by the weighted final score, ties broken as in
    the preliminary round (``tie_decimals``, then ``tie_break``)."""
    scored = []
    for entry in entries:
        _require_unit(entry.team, {"quality": entry.quality, "efficiency": entry.efficiency})
        try:
            scored.append((final_score(entry.dimensions, rules), entry))
        except ValueError as error:
            raise ValueError(f"{entry.team}: {error}") from None
    return _competition_rank(scored, rules, FinalRanked)


def awards_for(ranked: Sequence[FinalRanked], final: FinalRules) -> list[tuple[FinalRanked, Award]]:
    """The awards of a final ranking, best first. The awards take places in order down the
    ranking: the first covers ranks 1 to its ``places``, the next the following ``places``
    ranks, and so on. A team receives the award whose places hold its rank, so teams sharing a
    rank across a boundary all receive the better award, and the places they fill are not given
    again (ranks 1, 1, 3 with three one-place awards: two first prizes, no second, a third).
    Teams ranked below every award's places receive none."""
    ranks = [r.rank for r in ranked]
    if ranks != sorted(ranks) or (ranks and ranks[0] < 1):
        raise ValueError("awards need a ranking in order of rank, as final_rank gives it")
    bounds = []
    last = 0
    for award in final.awards:
        last += award.places
        bounds.append((last, award))
    given = []
    for item in ranked:
        award = next((a for bound, a in bounds if item.rank <= bound), None)
        if award is None:
            break
        given.append((item, award))
    return given
