"""Issue 9, point 12: a set's cases on every core give the same bytes as on one, in order."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from scoring import parallel
from scoring.breakdown import score_track, to_json
from tests.scoring.factory import RULES, load, make_set


@pytest.fixture
def pool_used(monkeypatch):
    """Make every set large enough for the pool; record each pool started."""
    started = []
    executor = parallel.ProcessPoolExecutor

    def recording(*args, **kwargs):
        started.append(kwargs["mp_context"].get_start_method())
        return executor(*args, **kwargs)

    monkeypatch.setattr(parallel, "PARALLEL_MIN_VOXELS", 0)
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", recording)
    return started


@pytest.mark.parametrize("track", [2, 4, 5])
def test_two_processes_give_the_bytes_of_one(tmp_path, track, pool_used):
    predictions, truth = make_set(track, tmp_path, cases=8)
    serial = score_track(track, predictions, truth, RULES, workers=1).breakdown
    assert pool_used == []
    pooled = score_track(track, predictions, truth, RULES, workers=2).breakdown
    assert len(pool_used) == 1  # forked; from a fork server if a thread were running
    assert to_json(pooled) == to_json(serial)
    if track != 5:
        assert list(pooled["per_case"]) == sorted(c["case_id"] for c in _scored(truth))


def _scored(truth):
    return [c for c in load(truth)["cases"] if c["track"] is not None]


def test_problems_found_on_worker_processes_are_reported_together(tmp_path, pool_used):
    from scoring.errors import PredictionsInvalid
    from tests.scoring.factory import write_image

    predictions, truth = make_set(2, tmp_path, cases=8)
    for case_id in ("c001", "c005"):
        write_image(predictions.parent / case_id / "mask.nii.gz", np.full((16,) * 3, 9, np.uint8))
    with pytest.raises(PredictionsInvalid) as caught:
        score_track(2, predictions, truth, RULES, workers=2)
    assert [p.case for p in caught.value.problems] == ["c001", "c005"]


def test_small_sets_stay_in_this_process(tmp_path, monkeypatch):
    predictions, truth = make_set(2, tmp_path, cases=4)
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", lambda *a, **k: pytest.fail("pool"))
    score_track(2, predictions, truth, RULES, workers=2)


def test_track5_pooled_per_case_equals_picai_evaluate(tmp_path):
    """Track 5 runs picai's per-case evaluation on the workers and pools the cases as
    ``picai_eval.evaluate`` does: the figures are the library's own."""
    import SimpleITK as sitk

    with contextlib.redirect_stdout(io.StringIO()):
        import picai_eval

    predictions, truth = make_set(5, tmp_path, cases=8)
    breakdown = score_track(5, predictions, truth, RULES, workers=1).breakdown
    predicted = {c["case_id"]: c for c in load(predictions)["cases"]}
    cases = _scored(truth)

    def read(path):
        return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))

    direct = picai_eval.evaluate(
        y_det=[
            read(predictions.parent / predicted[c["case_id"]]["track"]["detection_map"])
            for c in cases
        ],
        y_true=[read(truth.parent / c["track"]["mask"]) > 0 for c in cases],
        subject_list=[c["case_id"] for c in cases],
        min_overlap=RULES.track(5).params["min_overlap"],
        overlap_func=RULES.track(5).params["overlap_func"],
        num_parallel_calls=1,
    )
    metrics = breakdown["metrics"]
    assert metrics["picai_score"] == float(direct.score)
    assert (metrics["auroc"], metrics["ap"]) == (float(direct.auroc), float(direct.AP))
