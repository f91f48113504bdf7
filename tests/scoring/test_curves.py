"""ROC curve summaries: the curve's points and AUC leave the sandbox, no case's value does."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from scoring.breakdown import score_track, to_json
from scoring.curves import MAX_POINTS, MIN_CASES_PER_STEP, roc_summary
from scoring.figures import RocData
from tests.scoring.factory import RULES, load, make_set, save


def known(cases: int, seed: int = 7) -> RocData:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, cases)
    y_score = np.round(rng.random(cases) * 0.8 + y_true * 0.3, 3)  # some ties, a fair model
    return RocData("known_roc", tuple(map(int, y_true)), tuple(map(float, y_score)))


def cases_admitted(figure: RocData, fpr: list[float], tpr: list[float]) -> list[int]:
    positives = sum(figure.y_true)
    negatives = len(figure.y_true) - positives
    return [round(f * negatives + t * positives) for f, t in zip(fpr, tpr, strict=True)]


def test_the_summary_is_the_curves_points_thinned_and_the_exact_auc():
    figure = known(300)
    summary = roc_summary(figure)
    assert set(summary) == {"name", "kind", "fpr", "tpr", "auc"}
    assert (summary["name"], summary["kind"]) == ("known_roc", "roc")
    assert summary["auc"] == roc_auc_score(figure.y_true, figure.y_score)
    fpr, tpr, _ = roc_curve(figure.y_true, figure.y_score, drop_intermediate=False)
    curve = {(round(float(f), 4), round(float(t), 4)) for f, t in zip(fpr, tpr, strict=True)}
    points = list(zip(summary["fpr"], summary["tpr"], strict=True))
    assert set(points) <= curve  # every point is one of scikit-learn's, none invented
    assert points[0] == (0.0, 0.0) and points[-1] == (1.0, 1.0)
    assert 3 <= len(points) <= MAX_POINTS
    assert summary["fpr"] == sorted(summary["fpr"]) and summary["tpr"] == sorted(summary["tpr"])


def test_every_step_spans_a_group_of_cases_so_no_label_can_be_read_off():
    figure = known(300)
    summary = roc_summary(figure)
    admitted = cases_admitted(figure, summary["fpr"], summary["tpr"])
    assert admitted[0] == 0 and admitted[-1] == 300
    assert all(b - a >= MIN_CASES_PER_STEP for a, b in zip(admitted, admitted[1:], strict=False))
    # At full resolution the curve would give one point per distinct score.
    assert len(summary["fpr"]) < len(set(figure.y_score)) / 5


def test_a_large_set_keeps_at_most_the_maximum_of_points():
    figure = known(20_000, seed=3)
    summary = roc_summary(figure)
    assert len(summary["fpr"]) <= MAX_POINTS
    admitted = cases_admitted(figure, summary["fpr"], summary["tpr"])
    step = math.ceil(20_000 / (MAX_POINTS - 1))
    assert all(b - a >= step for a, b in zip(admitted, admitted[1:], strict=False))


def test_no_score_and_no_threshold_is_in_the_summary():
    figure = known(300)
    summary = roc_summary(figure)
    shown = set(summary["fpr"]) | set(summary["tpr"])
    scores = set(figure.y_score) - {0.0, 1.0}
    assert not shown & scores
    assert len(summary["fpr"]) < len(figure.y_true)  # no value per case


def test_the_same_inputs_give_the_same_bytes():
    first = to_json({"curves": [roc_summary(known(300))]})
    again = to_json({"curves": [roc_summary(RocData(*vars(known(300)).values()))]})
    assert first == again
    assert to_json({"curves": [roc_summary(known(300, seed=8))]}) != first


def test_a_small_set_keeps_the_ends_and_the_auc():
    summary = roc_summary(RocData("tiny", (0, 0, 1, 1), (0.1, 0.4, 0.35, 0.8)))
    assert (summary["fpr"], summary["tpr"]) == ([0.0, 1.0], [0.0, 1.0])
    assert summary["auc"] == pytest.approx(0.75)


def test_a_truth_of_one_class_has_no_curve():
    summary = roc_summary(RocData("flat", (1, 1, 1), (0.2, 0.3, 0.9)))
    assert summary == {"name": "flat", "kind": "roc", "fpr": [], "tpr": [], "auc": None}


def test_the_breakdown_carries_every_roc_figures_summary_and_no_case(tmp_path):
    predictions, truth = make_set(6, tmp_path)
    document = load(predictions)
    for index, case in enumerate(document["cases"]):
        case["conformity"]["stitched"] = 0.1 * index  # imperfect, still a curve
    save(predictions, document)
    scored = score_track(6, predictions, truth, RULES)
    curves = scored.breakdown["curves"]
    rocs = [f for f in scored.figures if isinstance(f, RocData)]
    assert [c["name"] for c in curves] == [f.name for f in rocs] == ["stitched_roc", "breast_roc"]
    assert curves == [roc_summary(f) for f in rocs]
    text = to_json(scored.breakdown).decode()
    assert json.loads(text)["curves"] == curves
    shown = json.dumps(curves)
    assert not any(case_id in shown for case_id in scored.breakdown["per_case"])
