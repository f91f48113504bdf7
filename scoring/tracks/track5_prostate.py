"""Track 5, prostate MRI: the PI-CAI ranking score (AUROC + AP) / 2 from `picai_eval`."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from functools import cache
from types import ModuleType

import numpy as np
import SimpleITK as sitk

from scoring.detection import rate_key
from scoring.errors import PredictionsInvalid, Problem, TruthInvalid
from scoring.figures import FrocData, RocData
from scoring.rules import TrackRules
from scoring.schema import FileRef, Record
from scoring.tracks import TrackResult

SAME_GRID = {"detection_map": "mask"}
_FIELD = "track.detection_map"


def prediction_schema(track: TrackRules) -> Record:
    return Record({"detection_map": FileRef(labels=False)})


def truth_schema(track: TrackRules) -> Record:
    return Record({"mask": FileRef(labels=True)})


@cache
def _picai() -> tuple[ModuleType, ModuleType]:
    """Import picai_eval quietly: it prints a greeting on import, which would spoil --json."""
    with contextlib.redirect_stdout(io.StringIO()):
        import picai_eval
        import picai_eval.analysis_utils
    return picai_eval, picai_eval.analysis_utils


def score(pairs: Sequence, track: TrackRules) -> TrackResult:
    picai_eval, analysis = _picai()
    problems: list[Problem] = []

    def detection_maps() -> Iterator[np.ndarray]:
        # Read lazily, one case at a time (a 3D set does not fit in memory at once), and check
        # with picai's own parser so a softmax map is named per case instead of aborting all.
        for pair in pairs:
            array = sitk.GetArrayFromImage(
                sitk.ReadImage(str(pair.predicted_files["detection_map"]))
            )
            if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
                problems.append(Problem(pair.case_id, _FIELD, "confidences must lie in [0, 1]"))
                array = np.zeros_like(array, dtype=np.float32)
            else:
                try:
                    analysis.parse_detection_map(array.astype(np.float32))
                except ValueError:
                    problems.append(
                        Problem(
                            pair.case_id,
                            _FIELD,
                            "not a detection map: blobs must be separate, each of one confidence",
                        )
                    )
                    array = np.zeros_like(array, dtype=np.float32)
            yield array

    def lesion_masks() -> Iterator[np.ndarray]:
        for pair in pairs:
            yield (sitk.GetArrayFromImage(sitk.ReadImage(str(pair.truth_files["mask"]))) > 0)

    metrics = picai_eval.evaluate(
        y_det=detection_maps(),
        y_true=lesion_masks(),
        subject_list=[pair.case_id for pair in pairs],
        min_overlap=track.params["min_overlap"],
        overlap_func=track.params["overlap_func"],
        case_confidence_func="max",
        num_parallel_calls=1,
    )
    if problems:
        raise PredictionsInvalid(problems)
    targets = [int(metrics.case_target[pair.case_id]) for pair in pairs]
    if len(set(targets)) < 2:
        raise TruthInvalid(
            [Problem(None, "cases", "PI-CAI score needs cases with and without a lesion")]
        )
    rates = track.params["fp_rates"]
    at_rates = tuple(float(metrics.lesion_TPR_at_FPR(r)) for r in rates)
    result = {
        "picai_score": float(metrics.score),
        "auroc": float(metrics.auroc),
        "ap": float(metrics.AP),
        "lesions": int(metrics.num_lesions),
        "lesion_sensitivity_at_fp_rates": {
            rate_key(r): s for r, s in zip(rates, at_rates, strict=True)
        },
    }
    figures = (
        RocData(
            "case_roc",
            tuple(targets),
            tuple(float(metrics.case_pred[pair.case_id]) for pair in pairs),
        ),
        FrocData(
            "froc",
            tuple(float(v) for v in metrics.lesion_FPR),
            tuple(float(v) for v in metrics.lesion_TPR),
            tuple(rates),
            at_rates,
        ),
    )
    return TrackResult(float(metrics.score), result, figures=figures)
