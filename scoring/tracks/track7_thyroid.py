"""Track 7, thyroid US: mean of macro-F1 (argmax) and macro one-vs-rest AUROC, three classes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
)

from scoring.errors import Problem, TruthInvalid
from scoring.figures import ConfusionData
from scoring.rules import TrackRules
from scoring.schema import PROBABILITY, Keys, Node, OneOf, Record, Report
from scoring.tracks import TrackResult

SAME_GRID: dict[str, str] = {}
NO_NODULE = "no_nodule"
# scikit-learn's one-vs-rest AUROC refuses rows that do not sum to 1 (its own tolerance is
# about 1e-5); asking 1e-6 of the model names the case instead of failing inside sklearn.
_SUM_TOLERANCE = 1e-6


class _Distribution(Node):
    def __init__(self, classes: Sequence[str]):
        self.record = Keys(classes, PROBABILITY)

    def check(self, value, path: str, report: Report) -> None:
        before = len(report.problems)
        self.record.check(value, path, report)
        if len(report.problems) == before and abs(sum(value.values()) - 1) > _SUM_TOLERANCE:
            report.add(path, f"probabilities must add up to 1, got {sum(value.values())!r}")


def prediction_schema(track: TrackRules) -> Record:
    return Record({"probabilities": _Distribution(track.params["classes"])})


def truth_schema(track: TrackRules) -> Record:
    return Record({"label": OneOf(track.params["classes"])})


def score(pairs: Sequence, track: TrackRules) -> TrackResult:
    classes = list(track.params["classes"])
    y_true = np.array([classes.index(pair.truth["label"]) for pair in pairs])
    absent = [c for i, c in enumerate(classes) if i not in set(y_true.tolist())]
    if absent:
        raise TruthInvalid(
            [Problem(None, "cases", f"one-vs-rest AUROC needs every class; absent: {absent}")]
        )
    scores = np.array([[pair.predicted["probabilities"][c] for c in classes] for pair in pairs])
    y_pred = scores.argmax(axis=1)  # ties go to the class listed first in the rules
    labels = list(range(len(classes)))
    macro_f1 = float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0.0))
    macro_auroc = float(
        roc_auc_score(y_true, scores, multi_class="ovr", average="macro", labels=labels)
    )
    primary = (macro_f1 + macro_auroc) / 2
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    no_nodule = classes.index(NO_NODULE) if NO_NODULE in classes else None
    metrics = {
        "mean_macro_f1_auroc": primary,
        "macro_f1": macro_f1,
        "macro_auroc_ovr": macro_auroc,
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "mcc": float(matthews_corrcoef(y_true, y_pred)),
        "confusion_matrix": {"labels": classes, "matrix": matrix.tolist()},
    }
    if no_nodule is not None:
        # One-vs-rest specificity of "no nodule": of the cases with a nodule, the share the
        # model did not call nodule-free (a missed nodule is the costly error here).
        with_nodule = y_true != no_nodule
        metrics["no_nodule_specificity"] = float(np.mean(y_pred[with_nodule] != no_nodule))
    figure = ConfusionData("confusion_matrix", tuple(classes), tuple(map(tuple, matrix.tolist())))
    return TrackResult(primary, metrics, figures=(figure,))
