"""Track 5, prostate MRI: the PI-CAI ranking score (AUROC + AP) / 2 from `picai_eval`."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

from scoring.detection import rate_key
from scoring.errors import FileRefused, PredictionsInvalid, Problem, TruthInvalid
from scoring.figures import FrocData, RocData
from scoring.images import read_array, read_header
from scoring.parallel import map_cases
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
        import picai_eval.eval
    return picai_eval, picai_eval.eval


@dataclass(frozen=True)
class DetectionCase:
    """One case for a worker process: its files and picai's matching settings."""

    case_id: str
    detection_map: Path
    mask: Path
    min_overlap: float
    overlap_func: str


@dataclass(frozen=True)
class CaseLesions:
    case_id: str
    lesions: list[tuple[int, float, float]] = field(default_factory=list)  # picai's triples
    confidence: float = 0.0
    truth_problem: Problem | None = None
    predicted_problem: Problem | None = None


def evaluate_case(case: DetectionCase) -> CaseLesions:
    """Read both files and run ``picai_eval``'s own ``evaluate_case`` on them: the call
    ``picai_eval.evaluate`` makes per case (`score` then pools the cases as it does)."""
    evaluation = _picai()[1]
    try:
        truth = read_array(case.mask) > 0
    except FileRefused as refused:
        problem = Problem(case.case_id, "track.mask", str(refused))
        return CaseLesions(case.case_id, truth_problem=problem)
    try:
        array = read_array(case.detection_map)
        low, high = float(array.min()), float(array.max())
        if not (low >= 0.0 and high <= 1.0):  # NaN fails both comparisons
            raise FileRefused("confidences must lie in [0, 1]")
        lesions, confidence, _, _ = evaluation.evaluate_case(
            y_det=array,
            y_true=truth,
            min_overlap=case.min_overlap,
            overlap_func=case.overlap_func,
            case_confidence_func="max",
        )
    except FileRefused as refused:
        problem = str(refused)
    except ValueError:  # picai's own parser: blobs that touch, or hold several values (softmax)
        problem = "not a detection map: blobs must be separate, each of one confidence"
    else:
        return CaseLesions(case.case_id, lesions, confidence)
    return CaseLesions(case.case_id, predicted_problem=Problem(case.case_id, _FIELD, problem))


def score(pairs: Sequence, track: TrackRules, workers: int | None = None) -> TrackResult:
    picai_eval = _picai()[0]
    cases = [
        DetectionCase(
            pair.case_id,
            pair.predicted_files["detection_map"],
            pair.truth_files["mask"],
            track.params["min_overlap"],
            track.params["overlap_func"],
        )
        for pair in pairs
    ]
    voxels = sum(read_header(c.mask).voxels for c in cases)
    results = map_cases(evaluate_case, cases, voxels=voxels, workers=workers)
    truth_problems = [r.truth_problem for r in results if r.truth_problem]
    if truth_problems:
        raise TruthInvalid(truth_problems)
    problems = [r.predicted_problem for r in results if r.predicted_problem]
    if problems:
        raise PredictionsInvalid(problems)
    # picai_eval.evaluate's own pooling, in case order (sample weight 1 for every case).
    metrics = picai_eval.Metrics(
        lesion_results={r.case_id: r.lesions for r in results},
        case_target={r.case_id: max((a[0] for a in r.lesions), default=0) for r in results},
        case_pred={r.case_id: r.confidence for r in results},
        case_weight={r.case_id: 1 for r in results},
        lesion_weight={r.case_id: [1] * len(r.lesions) for r in results},
    )
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
