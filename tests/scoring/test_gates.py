"""The authenticity and conformity gates: F1 edge cases, duplicate groups, pass marks."""

from __future__ import annotations

import pytest

from scoring import gates
from scoring.validation import load_predictions, load_truth
from tests.scoring.factory import RULES, load, make_set, save


def _sets(tmp_path, change=None):
    predictions, truth = make_set(6, tmp_path, cases=4)
    if change:
        document = load(predictions)
        change({c["case_id"]: c for c in document["cases"]})
        save(predictions, document)
    truth_set = load_truth(truth, 6, RULES)
    return load_predictions(predictions, truth_set, 6, RULES), truth_set


def test_duplicate_pairs_are_compared_as_groups():
    assert gates.duplicate_pairs({"a": None, "b": "a", "c": "a"}) == {
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    }
    assert gates.duplicate_pairs({"a": None, "b": "a", "c": "b"}) == gates.duplicate_pairs(
        {"a": None, "b": "a", "c": "a"}
    )
    assert gates.duplicate_pairs({"a": None, "b": None}) == set()


def test_a_perfect_prediction_passes_both_gates(tmp_path):
    predictions, truth = _sets(tmp_path)
    authenticity, _ = gates.authenticity(predictions, truth, RULES.authenticity)
    conformity, _ = gates.conformity(predictions, truth, RULES.conformity)
    # non_human is neither in the truth nor predicted: it must not cost the macro-F1.
    assert authenticity["macro_f1"] == 1.0 and authenticity["passed"]
    assert conformity["duplicate_pair_f1"] == 1.0 and conformity["passed"]


def test_rejecting_a_real_image_fails_on_the_false_rejection_rate(tmp_path):
    def change(cases):
        cases["c000"]["authenticity"] = {"real_human": 0.1, "phantom": 0.9, "non_human": 0.0}

    predictions, truth = _sets(tmp_path, change)
    result, _ = gates.authenticity(predictions, truth, RULES.authenticity)
    # 5 real human cases (c000-c003 and the duplicate d901), one rejected.
    assert result["false_rejection_rate"] == pytest.approx(1 / 5)
    assert not result["passed"]
    assert result["confusion_matrix"]["matrix"][0] == [4, 1, 0]


def test_a_missed_duplicate_fails_the_conformity_gate(tmp_path):
    predictions, truth = _sets(
        tmp_path, lambda c: c["d901"]["conformity"].update(duplicate_of=None)
    )
    result, _ = gates.conformity(predictions, truth, RULES.conformity)
    assert result["duplicate_pair_f1"] == 0.0
    assert not result["passed"]


def test_stitched_f1_is_taken_at_the_rules_threshold(tmp_path):
    # c001 is the one stitched case; 0.5 is exactly the threshold, so it counts as found.
    predictions, truth = _sets(tmp_path, lambda c: c["c001"]["conformity"].update(stitched=0.5))
    result, _ = gates.conformity(predictions, truth, RULES.conformity)
    assert result["stitched_f1"] == 1.0
    predictions, truth = _sets(
        tmp_path / "b", lambda c: c["c002"]["conformity"].update(stitched=0.7)
    )
    result, _ = gates.conformity(predictions, truth, RULES.conformity)
    assert result["stitched_f1"] == pytest.approx(2 / 3)
    assert result["stitched_auroc"] == pytest.approx(1.0)
