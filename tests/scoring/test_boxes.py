"""PASCAL VOC 2010 AP at IoU > 0.4, on examples worked by hand."""

from __future__ import annotations

import pytest

from scoring.boxes import average_precision, iou, mean_average_precision, voc_ap


def test_iou_worked_example():
    assert iou((0, 0, 2, 2), (1, 0, 3, 2)) == pytest.approx(1 / 3)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0


def test_ap_worked_example_uses_the_precision_envelope():
    truth = {"a": [(0, 0, 10, 10), (20, 20, 30, 30)]}
    detections = [
        ("a", (0, 0, 10, 10), 0.9),  # TP: recall 1/2, precision 1
        ("a", (50, 50, 60, 60), 0.8),  # FP: recall 1/2, precision 1/2
        ("a", (20, 20, 30, 30), 0.7),  # TP: recall 1, precision 2/3
    ]
    # Envelope: precision 1 up to recall 1/2, then 2/3 -> AP = 0.5 * 1 + 0.5 * 2/3
    assert average_precision(detections, truth, 0.4) == pytest.approx(0.5 + 1 / 3)


def test_a_second_detection_of_the_same_box_is_a_false_positive():
    truth = {"a": [(0, 0, 10, 10)]}
    twice = [("a", (0, 0, 10, 10), 0.9), ("a", (0, 0, 10, 10), 0.8)]
    assert average_precision(twice, truth, 0.4) == pytest.approx(1.0)  # FP after full recall
    late = [("a", (0, 0, 10, 10), 0.8), ("a", (0, 0, 10, 10), 0.9)]
    assert average_precision(late, truth, 0.4) == pytest.approx(1.0)


def test_iou_must_be_strictly_above_the_threshold():
    truth = {"a": [(0, 0, 10, 10)]}
    # IoU exactly 0.4: intersection 40 of union 100 when the box is (0,0,10,4)... union 100
    assert iou((0, 0, 10, 4), (0, 0, 10, 10)) == pytest.approx(0.4)
    assert average_precision([("a", (0, 0, 10, 4), 0.9)], truth, 0.4) == 0.0


def test_voc_ap_of_perfect_and_empty_curves():
    assert voc_ap([1.0], [1.0]) == 1.0
    assert voc_ap([], []) == 0.0


def test_map_skips_labels_without_truth_boxes():
    value, per_label = mean_average_precision(
        [("a", "Mass", (0, 0, 1, 1), 0.9)],
        [("a", "Mass", (0, 0, 1, 1))],
        ["Mass", "Nodule"],
        0.4,
    )
    assert value == 1.0
    assert per_label == {"Mass": 1.0, "Nodule": None}
