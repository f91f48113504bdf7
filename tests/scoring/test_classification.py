"""AUROC (with the undefined case), sensitivity at specificity, probabilistic F1."""

from __future__ import annotations

import pytest

from scoring.classification import auroc, probabilistic_f1, sensitivity_at_specificity


def test_auroc_of_one_class_is_undefined_not_a_half():
    assert auroc([1, 1, 1], [0.2, 0.5, 0.9]) is None
    assert auroc([], []) is None


def test_auroc_worked_example():
    # sklearn's documented example: y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8] -> 0.75
    assert auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_probabilistic_f1_worked_example():
    # pTP = 0.8 + 0.6 = 1.4, pFP = 0.4 + 0.2 = 0.6 -> pP = 0.7, pR = 1.4 / 2 = 0.7, pF1 = 0.7
    assert probabilistic_f1([1, 0, 1, 0], [0.8, 0.4, 0.6, 0.2]) == pytest.approx(0.7)


def test_probabilistic_f1_is_not_the_f1_of_hard_labels():
    # Thresholding at 0.5 would give F1 = 1; the soft counts do not.
    assert probabilistic_f1([1, 0], [0.6, 0.4]) == pytest.approx(0.6)


def test_probabilistic_f1_zero_cases():
    assert probabilistic_f1([1, 0], [0.0, 0.0]) == 0.0
    assert probabilistic_f1([0, 0], [0.5, 0.5]) == 0.0


def test_sensitivity_at_specificity_takes_the_best_allowed_operating_point():
    y = [0] * 10 + [1] * 4
    scores = [i / 100 for i in range(10)] + [0.95, 0.5, 0.085, 0.01]
    # At specificity ≥ 0.9 one of the ten negatives may be called positive: the threshold
    # 0.085 lets in the 0.09 negative and the positives 0.95, 0.5, 0.085, not 0.01 -> 3/4.
    assert sensitivity_at_specificity(y, scores, 0.9) == pytest.approx(0.75)
    assert sensitivity_at_specificity(y, scores, 1.0) == pytest.approx(0.5)
    assert sensitivity_at_specificity([1, 1], [0.1, 0.2], 0.9) is None
