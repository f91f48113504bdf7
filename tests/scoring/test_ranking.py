"""Efficiency, expert score, preliminary and final scores, rankings with the tie-breaks,
awards."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.efficiency import efficiency_score
from scoring.ranking import (
    Entry,
    FinalEntry,
    aggregate_expert,
    awards_for,
    expert_score,
    final_dimension_score,
    final_rank,
    final_score,
    preliminary_score,
    rank,
    sheet_score,
)
from scoring.rules import Award, ReviewRules
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


# --- expert review ------------------------------------------------------------------------------

MEAN = ReviewRules(3, "mean", 0, True)
TRIMMED = ReviewRules(5, "trimmed_mean", 1, True)


def test_a_sheet_scores_its_mean_grade_over_the_top_grade():
    rubric = RULES.expert_rubric
    sheet = dict(zip(rubric.dimensions, (5, 4, 3, 0), strict=True))
    assert sheet_score(sheet, rubric) == pytest.approx(12 / 4 / 5)
    assert sheet_score(dict.fromkeys(rubric.dimensions, 5), rubric) == 1.0
    assert sheet_score(dict.fromkeys(rubric.dimensions, 0), rubric) == 0.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("innovation"), "must grade exactly"),
        (lambda s: s.update(extra=3), "must grade exactly"),
        (lambda s: s.update(innovation=6), "not a level"),
        (lambda s: s.update(innovation=-1), "not a level"),
        (lambda s: s.update(innovation=2.5), "not a level"),
        (lambda s: s.update(innovation=True), "not a level"),
    ],
)
def test_a_sheet_grades_exactly_the_rubric_with_published_levels(change, message):
    sheet = dict.fromkeys(RULES.expert_rubric.dimensions, 3)
    change(sheet)
    with pytest.raises(ValueError, match=message):
        sheet_score(sheet, RULES.expert_rubric)
    with pytest.raises(ValueError, match=f"expert sheet 1: .*{message}"):
        expert_score([dict.fromkeys(RULES.expert_rubric.dimensions, 3), sheet], RULES.expert_rubric)


def test_expert_score_is_the_mean_of_the_sheets():
    rubric = RULES.expert_rubric
    sheets = [dict(zip(rubric.dimensions, g, strict=True)) for g in ((5, 4, 3, 2), (1, 1, 0, 5))]
    assert expert_score(sheets, rubric) == pytest.approx(
        aggregate_expert([sheet_score(s, rubric) for s in sheets], MEAN)
    )
    assert expert_score(sheets, rubric) == pytest.approx(21 / 8 / 5)
    with pytest.raises(ValueError, match="no expert grades"):
        expert_score([], rubric)


def test_the_mean_and_the_trimmed_mean_of_sheets():
    assert aggregate_expert([0.2, 0.4, 0.9], MEAN) == pytest.approx(0.5)
    # Sorted 0.0, 0.5, 0.6, 0.7, 1.0; one dropped at each end: mean of 0.5, 0.6, 0.7.
    assert aggregate_expert([1.0, 0.6, 0.0, 0.7, 0.5], TRIMMED) == pytest.approx(0.6)
    # The trimmed mean needs 2 × trim + 1 sheets; with trim 1, three are enough.
    assert aggregate_expert([0.1, 0.5, 0.9], TRIMMED) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("scores", "review", "message"),
    [
        ([], MEAN, "no expert sheets"),
        ([], TRIMMED, "no expert sheets"),
        ([0.5, 0.5], TRIMMED, "needs at least 3 sheets, got 2"),
        ([0.5, 1.5], MEAN, r"sheet score 1 must be in \[0, 1\]"),
        ([float("nan")], MEAN, r"sheet score 0 must be in \[0, 1\]"),
        ([-0.1], MEAN, r"must be in \[0, 1\]"),
        ([True], MEAN, "must be a number"),
        ([0.5], ReviewRules(3, "median", 0, True), "unknown aggregation"),
    ],
)
def test_aggregate_expert_refuses(scores, review, message):
    with pytest.raises(ValueError, match=message):
        aggregate_expert(scores, review)


unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.data(), st.integers(min_value=1, max_value=4))
def test_a_trimmed_mean_lies_between_the_kept_extremes(data, trim):
    scores = data.draw(st.lists(unit, min_size=2 * trim + 1, max_size=2 * trim + 12))
    review = ReviewRules(max(5, 2 * trim + 1), "trimmed_mean", trim, True)
    value = aggregate_expert(scores, review)
    kept = sorted(scores)[trim : len(scores) - trim]
    assert min(scores) <= kept[0] <= value <= kept[-1] <= max(scores)
    assert aggregate_expert(list(reversed(scores)), review) == value


@given(st.lists(unit, min_size=1, max_size=20))
def test_a_mean_lies_within_the_scores_and_ignores_their_order(scores):
    value = aggregate_expert(scores, MEAN)
    assert min(scores) <= value <= max(scores)
    assert aggregate_expert(sorted(scores), MEAN) == value
    assert aggregate_expert([scores[0]] * len(scores), MEAN) == scores[0]


# --- final round --------------------------------------------------------------------------------

FINAL = RULES.final
DIMENSIONS = tuple(FINAL.weights)


def _on_site(*values):
    return dict(zip(DIMENSIONS, values, strict=True))


def test_final_dimensions_are_the_mean_on_site_number_over_the_scale():
    scores = [_on_site(80, 60, 100, 0), _on_site(90, 70, 50, 0)]
    assert final_dimension_score(scores, FINAL) == pytest.approx(_on_site(0.85, 0.65, 0.75, 0.0))
    assert list(final_dimension_score(scores, FINAL)) == list(DIMENSIONS)


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([], "no on-site expert scores"),
        ([dict(list(_on_site(1, 2, 3, 4).items())[:3])], "sheet 0 must score exactly"),
        ([_on_site(1, 2, 3, 4), {**_on_site(1, 2, 3, 4), "charm": 5}], "sheet 1 must score"),
        ([_on_site(1, 2, 3, 101)], r"engineering_and_wide_use must be in \[0, 100\]"),
        ([_on_site(-1, 2, 3, 4)], r"must be in \[0, 100\]"),
        ([_on_site(float("nan"), 2, 3, 4)], r"must be in \[0, 100\]"),
        ([_on_site("80", 2, 3, 4)], "must be a number"),
    ],
)
def test_final_dimension_score_refuses(scores, message):
    with pytest.raises(ValueError, match=message):
        final_dimension_score(scores, FINAL)


def _finalist(team, score, quality=0.5, efficiency=0.5, minutes=0):
    return FinalEntry(
        team, dict.fromkeys(DIMENSIONS, score), quality, efficiency, T0 + timedelta(minutes=minutes)
    )


def test_the_final_ranking_weighs_the_dimensions_and_breaks_ties_as_the_preliminary():
    uneven = FinalEntry("uneven", _on_site(1.0, 0.0, 1.0, 0.0), 0.5, 0.5, T0)
    entries = [
        _finalist("late", 0.7, minutes=10),
        _finalist("early", 0.7, minutes=5),
        _finalist("sharp", 0.7, quality=0.9, minutes=20),
        _finalist("fast", 0.7, efficiency=0.9, minutes=20),
        _finalist("top", 0.9),
        uneven,
    ]
    ranked = final_rank(entries, RULES)
    assert [(r.rank, r.team) for r in ranked] == [
        (1, "top"),
        (2, "sharp"),
        (3, "fast"),
        (4, "early"),
        (5, "late"),
        (6, "uneven"),
    ]
    assert ranked[0].final_score == pytest.approx(0.9)
    assert ranked[-1].final_score == pytest.approx(0.5)
    assert ranked[-1].entry is uneven


def test_a_final_score_equal_up_to_float_noise_is_a_tie():
    # 0.1 + 0.2 weighed is not exactly 0.3 weighed: at tie_decimals they are equal, and equal
    # on every tie-break they share the rank, listed by team id.
    a = FinalEntry("b", _on_site(0.1 + 0.2, 0.3, 0.3, 0.3), 0.5, 0.5, T0)
    b = FinalEntry("a", _on_site(0.3, 0.3, 0.3, 0.3), 0.5, 0.5, T0)
    ranked = final_rank([a, b, _finalist("c", 0.2)], RULES)
    assert [(r.rank, r.team) for r in ranked] == [(1, "a"), (1, "b"), (3, "c")]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_finalist("a", 0.5), _finalist("a", 0.6)], "a team appears twice"),
        ([_finalist("a", 1.5)], r"a: final score: .* must be in \[0, 1\]"),
        ([_finalist("a", 0.5, quality=1.2)], r"a: quality must be in \[0, 1\]"),
        (
            [FinalEntry("a", _on_site(1, 1, 1, 1) | {"charm": 1}, 0.5, 0.5, T0)],
            "a: final score needs exactly",
        ),
    ],
)
def test_final_rank_refuses(entries, message):
    with pytest.raises(ValueError, match=message):
        final_rank(entries, RULES)


def test_final_score_refuses_a_dimension_outside_zero_to_one():
    with pytest.raises(ValueError, match="must be in"):
        final_score(dict.fromkeys(RULES.final_weights, 1.2), RULES)


standings = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),  # few values: many ties
        st.sampled_from([0.0, 0.5, 1.0]),
        st.sampled_from([0.0, 0.5, 1.0]),
        st.integers(min_value=0, max_value=2),
    ),
    max_size=8,
)


@given(standings, st.randoms(use_true_random=False))
def test_the_final_ranking_ignores_the_order_of_its_input(rows, random):
    entries = [_finalist(f"t{i}", *row[:3], minutes=row[3]) for i, row in enumerate(rows)]
    shuffled = list(entries)
    random.shuffle(shuffled)
    ranked = final_rank(entries, RULES)
    assert final_rank(shuffled, RULES) == ranked
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked)
    assert all(r.rank in (i, ranked[i - 1].rank) for i, r in enumerate(ranked, start=1) if i > 1)


@given(standings, st.randoms(use_true_random=False))
def test_the_preliminary_ranking_ignores_the_order_of_its_input(rows, random):
    entries = [
        _entry(f"t{i}", quality, efficiency, expert, gates=minutes != 2, minutes=minutes)
        for i, (quality, efficiency, expert, minutes) in enumerate(rows)
    ]
    shuffled = list(entries)
    random.shuffle(shuffled)
    assert rank(shuffled, RULES) == rank(entries, RULES)


# --- awards -------------------------------------------------------------------------------------


def _ranked(*scores):
    return final_rank([_finalist(f"t{i}", s) for i, s in enumerate(scores)], RULES)


def _given(ranked, final=FINAL):
    return [(r.rank, r.team, award.key) for r, award in awards_for(ranked, final)]


def test_awards_go_in_order_down_the_final_ranking():
    assert _given(_ranked(0.9, 0.8, 0.7, 0.6)) == [
        (1, "t0", "first_prize"),
        (2, "t1", "second_prize"),
        (3, "t2", "third_prize"),
    ]
    assert _given(_ranked(0.9)) == [(1, "t0", "first_prize")]
    assert _given([]) == []


def test_teams_sharing_a_rank_across_a_boundary_all_receive_the_better_award():
    # Ranks 1, 1, 3, 4: two first prizes; their places leave no second prize.
    assert _given(_ranked(0.9, 0.9, 0.7, 0.6)) == [
        (1, "t0", "first_prize"),
        (1, "t1", "first_prize"),
        (3, "t2", "third_prize"),
    ]
    # Ranks 1, 2, 2, 2: the three tied at 2 all receive the second prize, no third.
    assert _given(_ranked(0.9, 0.8, 0.8, 0.8)) == [
        (1, "t0", "first_prize"),
        (2, "t1", "second_prize"),
        (2, "t2", "second_prize"),
        (2, "t3", "second_prize"),
    ]
    # Ranks 1, 2, 3, 3: the last award's boundary is shared, both receive it.
    assert _given(_ranked(0.9, 0.8, 0.7, 0.7))[2:] == [
        (3, "t2", "third_prize"),
        (3, "t3", "third_prize"),
    ]


def test_an_award_of_several_places():
    gold = Award("gold", {"zh": "金奖", "en": "Gold"}, 2)
    silver = Award("silver", {"zh": "银奖", "en": "Silver"}, 1)
    final = dataclasses.replace(FINAL, awards=(gold, silver))
    assert _given(_ranked(0.9, 0.8, 0.7, 0.6), final) == [
        (1, "t0", "gold"),
        (2, "t1", "gold"),
        (3, "t2", "silver"),
    ]


def test_awards_need_a_ranking_in_rank_order():
    with pytest.raises(ValueError, match="in order of rank"):
        awards_for(list(reversed(_ranked(0.9, 0.8))), FINAL)
