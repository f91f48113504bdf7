"""Track 3, aneurysm CTA: mean sensitivity at 0.5, 1, 2 FP per case (hit when ≤ radius, ADAM)."""

from __future__ import annotations

from collections.abc import Sequence

from scoring.classification import auroc
from scoring.detection import froc_over_cases, rate_key
from scoring.errors import Problem, TruthInvalid
from scoring.figures import FrocData, RocData
from scoring.rules import TrackRules
from scoring.schema import COORDINATE, PROBABILITY, ListOf, Number, Record
from scoring.tracks import TrackResult

SAME_GRID: dict[str, str] = {}
_POINT = {"x": COORDINATE, "y": COORDINATE, "z": COORDINATE}


def prediction_schema(track: TrackRules) -> Record:
    return Record(
        {
            "aneurysms": ListOf(Record({**_POINT, "probability": PROBABILITY})),
            "present": PROBABILITY,
        }
    )


def truth_schema(track: TrackRules) -> Record:
    return Record({"aneurysms": ListOf(Record({**_POINT, "radius_mm": Number(positive=True)}))})


def score(pairs: Sequence, track: TrackRules) -> TrackResult:
    if not any(pair.truth["aneurysms"] for pair in pairs):
        raise TruthInvalid(
            [Problem(None, "cases", "no aneurysm in the truth: sensitivity is undefined")]
        )
    cases = [
        (
            [((a["x"], a["y"], a["z"]), a["probability"]) for a in pair.predicted["aneurysms"]],
            [((a["x"], a["y"], a["z"]), a["radius_mm"]) for a in pair.truth["aneurysms"]],
            [],
        )
        for pair in pairs
    ]
    curve, hits = froc_over_cases(cases, track.params["fp_rates"], inclusive=True)
    present = [int(bool(pair.truth["aneurysms"])) for pair in pairs]
    present_score = [pair.predicted["present"] for pair in pairs]
    per_case = {
        pair.case_id: {
            # ADAM: sensitivity per image is undefined (null) when it holds no aneurysm.
            "sensitivity": (sum(b is not None for b in h.best) / len(h.best) if h.best else None),
            "false_positives": len(h.fp_probs),
        }
        for pair, h in zip(pairs, hits, strict=True)
    }
    metrics = {
        "mean_sensitivity": curve.score,
        "sensitivity_at_fp_rates": {
            rate_key(r): s for r, s in zip(curve.rates, curve.sensitivity_at_rates, strict=True)
        },
        "aneurysms": sum(len(h.best) for h in hits),
        "false_positives": sum(len(h.fp_probs) for h in hits),
        "present_auroc": auroc(present, present_score),
    }
    figures = (
        FrocData(
            "froc", curve.fps_per_case, curve.sensitivity, curve.rates, curve.sensitivity_at_rates
        ),
        RocData("present_roc", tuple(present), tuple(present_score)),
    )
    return TrackResult(curve.score, metrics, per_case, figures)
