"""Hit matching (LUNA16 <, ADAM ≤) and the FROC/CPM, on examples worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from monai.metrics import compute_froc_curve_data

from scoring.detection import froc, match_hits

LUNA_RATES = (0.125, 0.25, 0.5, 1, 2, 4, 8)
ORIGIN = (0.0, 0.0, 0.0)


def test_luna16_needs_strictly_less_than_the_radius_adam_accepts_equal():
    target = [(ORIGIN, 5.0)]
    on_the_sphere = [((3.0, 4.0, 0.0), 0.7)]  # distance exactly 5 mm
    luna = match_hits(on_the_sphere, target, inclusive=False)
    adam = match_hits(on_the_sphere, target, inclusive=True)
    assert luna.tp_probs == (0.0,) and luna.fp_probs == (0.7,)
    assert adam.tp_probs == (0.7,) and adam.fp_probs == ()


def test_only_the_best_hit_counts_and_extra_hits_are_not_false_positives():
    target = [(ORIGIN, 5.0)]
    candidates = [((1.0, 0.0, 0.0), 0.4), ((0.0, 1.0, 0.0), 0.9), ((30.0, 0.0, 0.0), 0.2)]
    hits = match_hits(candidates, target, inclusive=False)
    assert hits.tp_probs == (0.9,)
    assert hits.best == (1,)
    assert hits.fp_probs == (0.2,)


def test_a_hit_on_an_excluded_finding_is_ignored():
    candidates = [((20.0, 0.0, 0.0), 0.8)]
    hits = match_hits(candidates, [(ORIGIN, 5.0)], [((21.0, 0.0, 0.0), 3.0)], inclusive=False)
    assert hits.tp_probs == (0.0,) and hits.best == (None,) and hits.fp_probs == ()


def test_cpm_worked_example():
    # 3 cases, 2 nodules found at 0.9 and 0.4, false positives at 0.8, 0.5, 0.3.
    # Thresholds 0.3/0.4/0.5/0.8/0.9 give FP per case 1, 2/3, 2/3, 1/3, 0 and sensitivity
    # 1, 1, 1/2, 1/2, 1/2; interpolated at the LUNA16 rates: 1/2, 1/2, 1/2, 1, 1, 1, 1.
    curve = froc([0.9, 0.4], [0.8, 0.5, 0.3], num_targets=2, num_cases=3, rates=LUNA_RATES)
    assert curve.sensitivity_at_rates == pytest.approx((0.5, 0.5, 0.5, 1, 1, 1, 1))
    assert curve.score == pytest.approx(5.5 / 7)


def test_a_missed_nodule_lowers_sensitivity_for_every_rate():
    curve = froc([0.9, 0.0], [], num_targets=2, num_cases=1, rates=LUNA_RATES)
    assert curve.score == pytest.approx(0.5)


def test_the_lowest_detection_is_not_dropped():
    # MONAI drops the lowest probability it is given; the hit at 0.2 must still count.
    tp, fp = [0.9, 0.2], [0.5]
    raw_fps, raw_sensitivity = compute_froc_curve_data(np.array(fp), np.array(tp), 2, 1)
    assert raw_sensitivity.max() == 0.5  # the trap, shown on the library itself
    curve = froc(tp, fp, num_targets=2, num_cases=1, rates=LUNA_RATES)
    assert max(curve.sensitivity) == 1.0
    assert curve.sensitivity_at_rates[-1] == 1.0


def test_default_monai_rates_are_not_used():
    curve = froc([0.9], [0.8] * 8, num_targets=2, num_cases=8, rates=LUNA_RATES)
    assert curve.rates == LUNA_RATES
