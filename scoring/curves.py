"""Curve summaries: what a ROC figure may say outside the scoring sandbox.

A `RocData` holds every case's truth and score, which must never reach a team. Its summary
holds the curve's (false positive rate, sensitivity) points and the AUC, and nothing per case:
no case id, no score, no threshold (a threshold is one of the team's scores, so it would pin a
point of the curve to a case).

The points are not the full curve either. A team knows its own scores, so it can rank its
cases as the curve does; a full-resolution curve would then tell it the hidden label of every
case (each step up is a positive, each step right a negative). The summary therefore keeps
only points at least `MIN_CASES_PER_STEP` cases apart, and at most `MAX_POINTS` of them: a
team learns how many positives lie in each group of that many cases of its own ranking, which
is what an operating point among the metrics says already, and no more. The first point
(0, 0) and the last (1, 1) are always kept; the choice depends on the data only, and the
values are rounded to `DIGITS` places, so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from scoring.figures import RocData

MAX_POINTS = 100
MIN_CASES_PER_STEP = 10
DIGITS = 4


def roc_summary(figure: RocData) -> dict[str, Any]:
    """``{name, kind: "roc", fpr, tpr, auc}`` of one ROC figure; a truth of one class only has
    no curve: empty points and ``auc`` None, as its AUROC is among the metrics."""
    y_true = np.asarray(figure.y_true, dtype=int)
    summary: dict[str, Any] = {"name": figure.name, "kind": "roc", "fpr": [], "tpr": []}
    if y_true.size == 0 or np.unique(y_true).size < 2:
        return {**summary, "auc": None}
    y_score = np.asarray(figure.y_score, dtype=float)
    fpr, tpr, _ = roc_curve(y_true, y_score, drop_intermediate=False)
    positives = int(y_true.sum())
    ranked = np.rint(fpr * (y_true.size - positives) + tpr * positives).astype(int)
    kept = thinned(ranked.tolist(), y_true.size)
    return {
        **summary,
        "fpr": [round(float(fpr[i]), DIGITS) for i in kept],
        "tpr": [round(float(tpr[i]), DIGITS) for i in kept],
        "auc": float(roc_auc_score(y_true, y_score)),
    }


def thinned(ranked: list[int], cases: int) -> list[int]:
    """Indices of the points to keep, given how many cases each point's threshold admits
    (non-decreasing, from 0 to ``cases``): the first and the last, and in between each point
    at least a step of cases past the last one kept and a step short of the end, so every
    step spans that many cases and there are at most `MAX_POINTS` points."""
    step = max(MIN_CASES_PER_STEP, math.ceil(cases / (MAX_POINTS - 1)))
    kept = [0]
    for index in range(1, len(ranked) - 1):
        if ranked[index] - ranked[kept[-1]] >= step and cases - ranked[index] >= step:
            kept.append(index)
    return [*kept, len(ranked) - 1]
