"""Case- and label-level classification metrics shared by tracks and gates.

AUROC is undefined when the truth holds one class only; scikit-learn raises then. The contest
reports such a value as ``None`` (JSON null) and leaves it out of any mean, rather than
inventing 0.5, so that a small or unlucky truth set is visible instead of silently scored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def auroc(
    y_true: Sequence[int] | np.ndarray, y_score: Sequence[float] | np.ndarray
) -> float | None:
    """Binary AUROC (`roc_auc_score`), or None when the truth holds one class only."""
    y_true = np.asarray(y_true, dtype=int)
    if y_true.size == 0 or np.unique(y_true).size < 2:
        return None
    return float(roc_auc_score(y_true, np.asarray(y_score, dtype=float)))


def sensitivity_at_specificity(
    y_true: Sequence[int] | np.ndarray, y_score: Sequence[float] | np.ndarray, specificity: float
) -> float | None:
    """Highest sensitivity over the ROC operating points whose specificity is ≥ ``specificity``."""
    y_true = np.asarray(y_true, dtype=int)
    if np.unique(y_true).size < 2:
        return None
    fpr, tpr, _ = roc_curve(y_true, np.asarray(y_score, dtype=float))
    allowed = fpr <= 1.0 - specificity + 1e-12
    return float(tpr[allowed].max())


def probabilistic_f1(y_true: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> float:
    """RSNA 2023 pF1 (*formula*): soft counts, so no threshold is chosen for the team.

    pTP = Σp over positives, pFP = Σp over negatives; pPrecision = pTP / (pTP + pFP),
    pRecall = pTP / #positives; pF1 = 2·pP·pR / (pP + pR), and 0 when either is 0.
    """
    y_true = np.asarray(y_true, dtype=bool)
    p = np.asarray(p, dtype=float)
    positives = int(y_true.sum())
    p_tp = float(p[y_true].sum())
    p_fp = float(p[~y_true].sum())
    if positives == 0 or p_tp + p_fp == 0:
        return 0.0
    precision = p_tp / (p_tp + p_fp)
    recall = p_tp / positives
    if precision == 0 or recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)
