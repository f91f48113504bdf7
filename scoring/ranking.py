"""Preliminary and final scores, and the ranking of a track (SCORING.md §5).

Weights, grade levels and the order of tie-breaks are read from the rules; only teams that
passed both gates are ranked. Teams equal on the score and on every tie-break share a rank
(competition ranking: 1, 1, 3), listed by team id so the output is the same every time.
Scores are compared rounded to the rules' ``tie_decimals``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scoring.rules import ExpertRubric, Rules


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


def expert_score(grades: Sequence[Mapping[str, int]], rubric: ExpertRubric) -> float:
    """Mean of every expert's grade on every rubric dimension, divided by the top grade."""
    if not grades:
        raise ValueError("no expert grades")
    values = []
    for index, sheet in enumerate(grades):
        if set(sheet) != set(rubric.dimensions):
            raise ValueError(
                f"expert sheet {index} must grade exactly {', '.join(rubric.dimensions)}"
            )
        for dimension in rubric.dimensions:
            if sheet[dimension] not in rubric.grades:
                raise ValueError(
                    f"expert sheet {index}: {dimension} grade {sheet[dimension]!r} is not a level"
                )
            values.append(sheet[dimension])
    return sum(values) / len(values) / rubric.top_grade


def preliminary_score(entry: Entry, rules: Rules) -> float:
    weights = rules.weights
    parts = {"quality": entry.quality, "efficiency": entry.efficiency, "expert": entry.expert}
    for name, value in parts.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{entry.team}: {name} must be in [0, 1], got {value!r}")
    return sum(weights[name] * parts[name] for name in ("quality", "efficiency", "expert"))


def final_score(dimensions: Mapping[str, float], rules: Rules) -> float:
    """Final round: each dimension scored 0-1, weighted by the rules (25 % each by default)."""
    if set(dimensions) != set(rules.final_weights):
        raise ValueError(f"final score needs exactly {', '.join(rules.final_weights)}")
    return sum(rules.final_weights[name] * dimensions[name] for name in rules.final_weights)


def rank(entries: Sequence[Entry], rules: Rules) -> tuple[list[Ranked], list[str]]:
    """Ranked teams that passed both gates, and the ids of those left out for a gate failure."""
    teams = [e.team for e in entries]
    if len(set(teams)) != len(teams):
        raise ValueError("a team appears twice in one ranking")
    scored = [(preliminary_score(e, rules), e) for e in entries if e.gates_passed]

    def order(item: tuple[float, Entry]) -> tuple:
        score, entry = item
        breaks = {
            "primary_metric": -entry.quality,
            "efficiency": -entry.efficiency,
            "submission_time": entry.submitted_at,
        }
        # Float sums of equal scores can differ in the last bit: compare at the published
        # precision, so that a tie is a tie and the published tie-breaks decide it.
        return (-round(score, rules.tie_decimals), *(breaks[name] for name in rules.tie_break))

    scored.sort(key=lambda item: (order(item), item[1].team))
    ranked: list[Ranked] = []
    for position, item in enumerate(scored, start=1):
        same_as_previous = ranked and order(item) == order(
            (ranked[-1].preliminary_score, ranked[-1].entry)
        )
        ranked.append(
            Ranked(
                ranked[-1].rank if same_as_previous else position, item[1].team, item[0], item[1]
            )
        )
    left_out = sorted(e.team for e in entries if not e.gates_passed)
    return ranked, left_out
