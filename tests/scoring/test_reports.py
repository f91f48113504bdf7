"""Issue 9, point 7: a validation report stays small in the ledger, complete in the blob store."""

from __future__ import annotations

import json

import pytest

from scoring import errors
from scoring.errors import PredictionsInvalid, Problem, Problems
from scoring.validation import load_predictions, load_truth
from tests.scoring.factory import RULES, make_set


def _invalid(predictions, truth, track=6) -> PredictionsInvalid:
    with pytest.raises(PredictionsInvalid) as caught:
        load_predictions(predictions, load_truth(truth, track, RULES), track, RULES)
    return caught.value


def test_400000_empty_cases_make_a_small_summary_and_a_full_report(tmp_path):
    predictions, truth = make_set(6, tmp_path)
    predictions.write_text('{"cases": [' + ",".join(["{}"] * 400_000) + "]}")
    invalid = _invalid(predictions, truth)
    assert invalid.total == 400_000 + 8  # every empty case, then every case missing
    summary = invalid.summary()
    assert summary["problems"] == invalid.total
    assert summary["kinds"] == {"cases[].case_id": 400_000, "case_id": 8}
    assert len(summary["first"]) == errors.SUMMARY_PROBLEMS
    assert len(json.dumps(summary)) < 10_000  # the event was 37 MB
    report = json.loads(invalid.report_json())
    assert report["problems"] == invalid.total and report["kinds"] == summary["kinds"]
    assert len(report["listed"]) + report["not_listed"] == invalid.total


def test_memory_stays_bounded_however_many_problems(monkeypatch):
    monkeypatch.setattr(errors, "MAX_LISTED", 100)
    monkeypatch.setattr(errors, "MAX_KINDS", 3)
    problems = Problems(Problem(None, f"track.key{i % 5}[{i}]", "bad") for i in range(1000))
    more = Problems([Problem("c1", "case_id", "missing")])
    problems.extend(more)
    assert (problems.total, len(problems.listed)) == (1001, 100)
    assert problems.kinds == {
        "track.key0[]": 200,
        "track.key1[]": 200,
        "track.key2[]": 200,
        errors.OTHER_KINDS: 401,
    }
    invalid = PredictionsInvalid(problems)
    assert invalid.total == 1001 and len(invalid.problems) == 100
    assert str(invalid).endswith(f"... and {1001 - errors.SUMMARY_PROBLEMS} more")


def test_texts_from_the_teams_file_are_cut_short(tmp_path):
    predictions, truth = make_set(6, tmp_path)
    text = predictions.read_text()
    predictions.write_text(text.replace('"track"', '"' + "k" * 100_000 + '": 1, "track"', 1))
    invalid = _invalid(predictions, truth)
    (problem,) = invalid.problems
    assert problem.message == "unknown field" and len(problem.field) < 100
    assert len(json.dumps(invalid.summary())) < 2_000


def test_the_summary_keeps_the_50_most_frequent_kinds():
    problems = [Problem(None, f"field{k}", "x") for k in range(80) for _ in range(k + 1)]
    summary = PredictionsInvalid(problems).summary()
    assert len(summary["kinds"]) == 51
    assert summary["kinds"]["field79"] == 80
    assert summary["kinds"][errors.OTHER_KINDS] == sum(range(1, 31))
