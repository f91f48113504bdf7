"""The two gates of every track (SCORING.md §2): image authenticity and image conformity.

Pass marks come from the rules. F1 values use ``zero_division=1.0``: a class (or duplicate
pair, or stitched image) that is neither in the truth nor predicted was handled perfectly,
and a test set without phantoms must not fail every team.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from scoring.classification import auroc
from scoring.figures import ConfusionData, RocData
from scoring.rules import REAL_HUMAN, AuthenticityGate, ConformityGate
from scoring.validation import CaseSet


def authenticity(
    predictions: CaseSet, truth: CaseSet, gate: AuthenticityGate
) -> tuple[dict[str, Any], tuple[ConfusionData]]:
    """Macro-F1 of the argmax class (ties: the class listed first), false rejection of real."""
    classes = list(gate.classes)
    ids = list(truth.cases)
    y_true = np.array([classes.index(truth.cases[i].authenticity) for i in ids])
    scores = np.array([[predictions.cases[i].authenticity[c] for c in classes] for i in ids])
    y_pred = scores.argmax(axis=1)
    labels = list(range(len(classes)))
    macro_f1 = float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=1.0))
    real = classes.index(REAL_HUMAN)
    is_real = y_true == real
    false_rejection = float(np.mean(y_pred[is_real] != real))  # the truth always holds real cases
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    result = {
        "macro_f1": macro_f1,
        "false_rejection_rate": false_rejection,
        "confusion_matrix": {"labels": classes, "matrix": matrix.tolist()},
        "pass_marks": {
            "macro_f1_min": gate.macro_f1_min,
            "false_rejection_max": gate.false_rejection_max,
        },
        "passed": macro_f1 >= gate.macro_f1_min and false_rejection <= gate.false_rejection_max,
    }
    figure = ConfusionData(
        "authenticity_confusion", tuple(classes), tuple(map(tuple, matrix.tolist()))
    )
    return result, (figure,)


def conformity(
    predictions: CaseSet, truth: CaseSet, gate: ConformityGate
) -> tuple[dict[str, Any], tuple[RocData]]:
    """Duplicate-pair F1 over unordered pairs, stitched F1 at the threshold and AUROC.

    Duplicates are compared as groups: if b and c both duplicate a, then {b, c} is a duplicate
    pair too, so a model that links c to b instead of to a is not punished for it.
    """
    truth_pairs = duplicate_pairs({i: c.duplicate_of for i, c in truth.cases.items()})
    predicted_pairs = duplicate_pairs({i: c.duplicate_of for i, c in predictions.cases.items()})
    union = sorted(truth_pairs | predicted_pairs)
    duplicate_f1 = (
        float(
            f1_score(
                [p in truth_pairs for p in union],
                [p in predicted_pairs for p in union],
                zero_division=1.0,
            )
        )
        if union
        else 1.0
    )
    ids = list(truth.cases)
    stitched = [int(truth.cases[i].stitched) for i in ids]
    stitched_score = [predictions.cases[i].stitched for i in ids]
    stitched_pred = [int(s >= gate.stitched_threshold) for s in stitched_score]
    stitched_f1 = float(f1_score(stitched, stitched_pred, zero_division=1.0))
    result = {
        "duplicate_pair_f1": duplicate_f1,
        "duplicate_pairs": {"truth": len(truth_pairs), "predicted": len(predicted_pairs)},
        "stitched_f1": stitched_f1,
        "stitched_auroc": auroc(stitched, stitched_score),
        "pass_marks": {
            "duplicate_pair_f1_min": gate.duplicate_pair_f1_min,
            "stitched_f1_min": gate.stitched_f1_min,
            "stitched_threshold": gate.stitched_threshold,
        },
        "passed": duplicate_f1 >= gate.duplicate_pair_f1_min
        and stitched_f1 >= gate.stitched_f1_min,
    }
    return result, (RocData("stitched_roc", tuple(stitched), tuple(stitched_score)),)


def duplicate_pairs(duplicate_of: Mapping[str, str | None]) -> set[tuple[str, str]]:
    """Every unordered pair of cases in the same duplicate group (sorted tuples)."""
    parent = {case: case for case in duplicate_of}

    def root(case: str) -> str:
        while parent[case] != case:
            parent[case] = parent[parent[case]]
            case = parent[case]
        return case

    for case, original in duplicate_of.items():
        if original is not None and original in parent:
            parent[root(case)] = root(original)
    groups: dict[str, list[str]] = {}
    for case in sorted(duplicate_of):
        groups.setdefault(root(case), []).append(case)
    return {pair for members in groups.values() for pair in _pairs(members)}


def _pairs(members: Iterable[str]) -> Iterable[tuple[str, str]]:
    return combinations(sorted(members), 2)
