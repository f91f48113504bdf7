"""The figures a team's results page draws from a recorded score (services/result_evidence.py):
the ROC curves from their recorded summaries, and nothing from a malformed or missing one."""

from __future__ import annotations

from scoring.curves import roc_summary
from scoring.figures import ConfusionData, RocCurveData, RocData
from scoring.plots import render
from services.result_evidence import recorded_figures

CURVE = roc_summary(RocData("breast_roc", (0,) * 15 + (1,) * 15, tuple(range(30))))
SCORE = {
    "metrics": {"pf1": 0.7, "confusion_matrix": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 2]]}},
    "gates": {"passed": True},
    "curves": [CURVE],
}


def test_a_recorded_curve_is_drawn_as_a_roc():
    figures = recorded_figures(SCORE)
    assert [type(f) for f in figures] == [ConfusionData, RocCurveData]
    roc = figures[1]
    assert roc == RocCurveData("breast_roc", tuple(CURVE["fpr"]), tuple(CURVE["tpr"]), 1.0)
    assert len(roc.fpr) > 2  # the page draws the recorded points, not just the ends
    assert render(roc).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_score_without_curves_or_with_a_broken_one_draws_none():
    assert [f.name for f in recorded_figures({**SCORE, "curves": None})] == [
        "metrics.confusion_matrix"
    ]
    broken = [
        {**CURVE, "kind": "froc"},
        {**CURVE, "fpr": CURVE["fpr"][:-1]},
        {**CURVE, "tpr": ["x"] * len(CURVE["tpr"])},
        {**CURVE, "auc": "high"},
        "breast_roc",
    ]
    assert len(recorded_figures({**SCORE, "curves": broken})) == 1
    assert recorded_figures(None) == []
