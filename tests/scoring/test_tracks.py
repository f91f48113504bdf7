"""Each track end to end on tiny sets: a perfect prediction scores the maximum, worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.breakdown import score_track
from scoring.errors import PredictionsInvalid, TruthInvalid
from tests.scoring.factory import RULES, load, make_set, save, write_image


@pytest.mark.parametrize("track", range(1, 9))
def test_a_perfect_prediction_scores_the_maximum(tmp_path, track):
    predictions, truth = make_set(track, tmp_path)
    breakdown = score_track(track, predictions, truth, RULES).breakdown
    assert breakdown["primary"] == {"name": RULES.track(track).primary, "value": 1.0}
    assert breakdown["metrics"][RULES.track(track).primary] == 1.0
    assert breakdown["gates"]["passed"] is True


def _set_track(path, case_id, value):
    document = load(path)
    for case in document["cases"]:
        if case["case_id"] == case_id:
            case["track"] = value
    save(path, document)


def test_track1_false_positives_lower_the_cpm(tmp_path):
    predictions, truth = make_set(1, tmp_path)
    document = load(predictions)
    far = {"x": 900.0, "y": 900.0, "z": 900.0, "malignancy": 0.5}
    for case in document["cases"][:6]:
        case["track"]["nodules"][0]["probability"] = 0.5
        case["track"]["nodules"].append({**far, "probability": 0.9})
    save(predictions, document)
    metrics = score_track(1, predictions, truth, RULES).breakdown["metrics"]
    # Six cases, one 0.9 false positive each: at ≤ 1 FP per case only the nodules found at
    # 1.0 (second nodules, 3 of 9) count; at 1 FP per case and above all are found.
    assert metrics["sensitivity_at_fp_rates"]["0.5"] == pytest.approx(3 / 9)
    assert metrics["sensitivity_at_fp_rates"]["8"] == pytest.approx(1.0)
    assert metrics["false_positives"] == 6


def test_track2_a_missing_tumour_costs_dice(tmp_path):
    predictions, truth = make_set(2, tmp_path)
    mask_path = predictions.parent / "c000" / "mask.nii.gz"
    write_image(mask_path, np.zeros((16, 16, 16), dtype=np.uint8))
    breakdown = score_track(2, predictions, truth, RULES).breakdown
    assert breakdown["per_case"]["c000"]["dice"] == {
        "kidney_and_mass": 0.0,
        "mass": 0.0,
        "tumour": 0.0,
    }
    assert breakdown["metrics"]["mean_dice"] == pytest.approx(5 / 6)
    assert breakdown["primary"]["value"] == pytest.approx(5 / 6)


def test_track4_an_empty_prediction_gets_the_hd95_penalty(tmp_path):
    predictions, truth = make_set(4, tmp_path)
    write_image(predictions.parent / "c000" / "mask.nii.gz", np.zeros((16, 16, 16), dtype=np.uint8))
    case = score_track(4, predictions, truth, RULES).breakdown["per_case"]["c000"]
    assert case["hd95_mm"] == {"WT": 374.0, "TC": 374.0, "ET": 374.0}


def test_track5_picai_worked_example(tmp_path):
    # Two scored cases: c000 has a lesion found at 0.8; c001 has none but a blob at 0.9.
    # Case level: the negative scores higher -> AUROC 0. Lesion level, by falling confidence:
    # FP at 0.9 (precision 0), TP at 0.8 (precision 1/2, recall 1) -> AP 0.5. Score 0.25.
    predictions, truth = make_set(5, tmp_path, cases=2)
    lesion = np.zeros((16, 16, 16), dtype=np.uint8)
    lesion[6:10, 6:10, 6:10] = 1
    write_image(truth.parent / "c000" / "lesion.nii.gz", lesion)
    write_image(truth.parent / "c001" / "lesion.nii.gz", np.zeros_like(lesion))
    write_image(predictions.parent / "c000" / "detection.nii.gz", (lesion * 0.8).astype(np.float32))
    blob = np.zeros((16, 16, 16), dtype=np.float32)
    blob[0:3, 0:3, 0:3] = 0.9
    write_image(predictions.parent / "c001" / "detection.nii.gz", blob)
    metrics = score_track(5, predictions, truth, RULES).breakdown["metrics"]
    assert metrics["auroc"] == pytest.approx(0.0)
    assert metrics["ap"] == pytest.approx(0.5)
    assert metrics["picai_score"] == pytest.approx(0.25)


def test_track5_a_softmax_map_is_refused_by_case(tmp_path):
    predictions, truth = make_set(5, tmp_path, cases=2)
    ramp = np.linspace(0, 1, 16**3, dtype=np.float32).reshape(16, 16, 16)
    write_image(predictions.parent / "c001" / "detection.nii.gz", ramp)
    with pytest.raises(PredictionsInvalid) as caught:
        score_track(5, predictions, truth, RULES)
    assert [(p.case, p.field) for p in caught.value.problems] == [("c001", "track.detection_map")]
    assert "not a detection map" in caught.value.problems[0].message


def test_track6_pf1_on_soft_probabilities(tmp_path):
    predictions, truth = make_set(6, tmp_path, cases=2)
    # c000: L malignant, R malignant; c001: both benign (index 1: 1 % 2, 1 % 3 are non-zero).
    _set_track(predictions, "c000", {"breasts": {"L": 0.8, "R": 0.6}})
    _set_track(predictions, "c001", {"breasts": {"L": 0.4, "R": 0.2}})
    metrics = score_track(6, predictions, truth, RULES).breakdown["metrics"]
    assert metrics["pf1"] == pytest.approx(0.7)
    assert metrics["auroc"] == pytest.approx(1.0)


def test_track7_macro_f1_worked_example(tmp_path):
    predictions, truth = make_set(7, tmp_path, cases=3)  # benign, malignant, no_nodule
    _set_track(
        predictions, "c001", {"probabilities": {"benign": 0.6, "malignant": 0.4, "no_nodule": 0.0}}
    )
    metrics = score_track(7, predictions, truth, RULES).breakdown["metrics"]
    # Predicted benign, benign, no_nodule: F1 benign 2/3, malignant 0, no_nodule 1 -> 5/9.
    assert metrics["macro_f1"] == pytest.approx(5 / 9)
    # One-vs-rest AUROC: benign 1, malignant (0.4 above 0 and 0) 1, no_nodule 1.
    assert metrics["macro_auroc_ovr"] == pytest.approx(1.0)
    assert metrics["mean_macro_f1_auroc"] == pytest.approx((5 / 9 + 1) / 2)
    assert metrics["confusion_matrix"]["matrix"] == [[1, 0, 0], [1, 0, 0], [0, 0, 1]]


def test_track7_probabilities_must_add_up_to_one(tmp_path):
    predictions, truth = make_set(7, tmp_path, cases=3)
    _set_track(
        predictions, "c000", {"probabilities": {"benign": 0.6, "malignant": 0.6, "no_nodule": 0.0}}
    )
    with pytest.raises(PredictionsInvalid, match="add up to 1"):
        score_track(7, predictions, truth, RULES)


def test_track7_needs_every_class_in_the_truth(tmp_path):
    predictions, truth = make_set(7, tmp_path, cases=2)
    with pytest.raises(TruthInvalid, match="no_nodule"):
        score_track(7, predictions, truth, RULES)


def test_track8_a_label_with_one_class_is_left_out_of_the_mean(tmp_path):
    predictions, truth = make_set(8, tmp_path, cases=4)
    document = load(truth)
    for case in document["cases"]:
        if case["track"]:
            case["track"]["findings"]["Hernia"] = 0
    save(truth, document)
    document = load(predictions)
    for case in document["cases"][:4]:
        case["track"]["findings"]["Mass"] = 1.0 - case["track"]["findings"]["Mass"]
    save(predictions, document)
    metrics = score_track(8, predictions, truth, RULES).breakdown["metrics"]
    assert metrics["auroc"]["Hernia"] is None
    assert metrics["auroc"]["Mass"] == 0.0
    assert metrics["mean_auroc"] == pytest.approx(12 / 13)


def test_track8_boxes_are_scored_when_the_truth_has_them(tmp_path):
    predictions, truth = make_set(8, tmp_path, cases=2)
    box = {"label": "Mass", "x0": 0.0, "y0": 0.0, "x1": 10.0, "y1": 10.0}
    document = load(truth)
    document["cases"][0]["track"]["boxes"] = [box]
    save(truth, document)
    document = load(predictions)
    document["cases"][0]["track"]["boxes"] = [{**box, "probability": 0.7}]
    save(predictions, document)
    metrics = score_track(8, predictions, truth, RULES).breakdown["metrics"]
    assert metrics["box_map"] == 1.0
    assert metrics["box_ap"]["Mass"] == 1.0 and metrics["box_ap"]["Nodule"] is None
