"""Efficiency, expert score, preliminary and final scores, ranking with the tie-breaks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scoring.efficiency import efficiency_score
from scoring.ranking import Entry, expert_score, final_score, preliminary_score, rank
from tests.scoring.factory import RULES

T0 = datetime(2026, 8, 1, 12, 0)


def test_efficiency_is_reference_time_over_the_median_capped_at_one():
    assert efficiency_score([1.0, 2.0, 100.0], t_ref_seconds=1.0) == pytest.approx(0.5)
    assert efficiency_score([0.5, 0.5], t_ref_seconds=1.0) == 1.0
    with pytest.raises(ValueError, match="at least one case"):
        efficiency_score([], 1.0)
    with pytest.raises(ValueError, match="finite"):
        efficiency_score([float("nan")], 1.0)


def test_expert_score_is_the_mean_grade_over_the_top_grade():
    rubric = RULES.expert_rubric
    sheet = dict.fromkeys(rubric.dimensions, 5)
    low = dict.fromkeys(rubric.dimensions, 0)
    assert expert_score([sheet, low], rubric) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not a level"):
        expert_score([{**sheet, "innovation": 6}], rubric)
    with pytest.raises(ValueError, match="must grade exactly"):
        expert_score([{"innovation": 3}], rubric)


def _entry(team, quality, efficiency=1.0, expert=1.0, gates=True, minutes=0):
    return Entry(team, quality, efficiency, expert, gates, T0 + timedelta(minutes=minutes))


def test_preliminary_score_uses_the_published_weights():
    assert preliminary_score(_entry("a", 0.5, 1.0, 0.0), RULES) == pytest.approx(0.40)
    assert final_score(dict.fromkeys(RULES.final_weights, 0.8), RULES) == pytest.approx(0.8)


def test_only_gate_passing_teams_are_ranked_and_ties_break_in_order():
    entries = [
        _entry("late", 0.8, minutes=10),
        _entry("early", 0.8, minutes=5),
        _entry("best", 0.9),
        _entry("failed", 1.0, gates=False),
        # Same preliminary score as the 0.8 teams, but quality decides first.
        _entry("worse-quality", 0.7, efficiency=1.0, expert=1.0 + 0.0, minutes=0),
    ]
    ranked, left_out = rank(entries, RULES)
    assert [r.team for r in ranked] == ["best", "early", "late", "worse-quality"]
    assert [r.rank for r in ranked] == [1, 2, 3, 4]
    assert left_out == ["failed"]


def test_the_primary_metric_breaks_an_equal_score_before_efficiency():
    # Both 0.73, but in floats a's sum is 0.7300000000000001 and b's 0.73: the tie must be
    # seen as one, and the primary metric must decide it for b.
    a = _entry("a", 0.9, efficiency=0.4, expert=0.5)
    b = _entry("b", 0.95, efficiency=0.1, expert=0.5)
    assert preliminary_score(a, RULES) > preliminary_score(b, RULES)
    ranked, _ = rank([a, b], RULES)
    assert ranked[0].team == "b"


def test_fully_equal_teams_share_a_rank():
    ranked, _ = rank([_entry("y", 0.5), _entry("x", 0.5), _entry("z", 0.4)], RULES)
    assert [(r.rank, r.team) for r in ranked] == [(1, "x"), (1, "y"), (3, "z")]
