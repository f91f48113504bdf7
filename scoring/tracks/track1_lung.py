"""Track 1, lung CT: LUNA16 CPM over nodule candidates, and nodule malignancy AUROC."""

from __future__ import annotations

from collections.abc import Sequence

from scoring.classification import auroc
from scoring.detection import froc_over_cases, rate_key
from scoring.errors import Problem, TruthInvalid
from scoring.figures import FrocData, RocData
from scoring.rules import TrackRules
from scoring.schema import COORDINATE, PROBABILITY, Boolean, ListOf, Number, Record
from scoring.tracks import TrackResult

SAME_GRID: dict[str, str] = {}
_POINT = {"x": COORDINATE, "y": COORDINATE, "z": COORDINATE}


def prediction_schema(track: TrackRules) -> Record:
    return Record(
        {
            "nodules": ListOf(
                Record({**_POINT, "probability": PROBABILITY, "malignancy": PROBABILITY})
            )
        }
    )


def truth_schema(track: TrackRules) -> Record:
    diameter = Number(positive=True)
    return Record(
        {
            "nodules": ListOf(Record({**_POINT, "diameter_mm": diameter, "malignant": Boolean()})),
            "excluded": ListOf(Record({**_POINT, "diameter_mm": diameter})),
        }
    )


def _sphere(finding: dict) -> tuple[tuple[float, float, float], float]:
    return (finding["x"], finding["y"], finding["z"]), finding["diameter_mm"] / 2


def score(pairs: Sequence, track: TrackRules) -> TrackResult:
    if not any(pair.truth["nodules"] for pair in pairs):
        raise TruthInvalid([Problem(None, "cases", "no nodule in the truth: CPM is undefined")])
    cases = [
        (
            [((c["x"], c["y"], c["z"]), c["probability"]) for c in pair.predicted["nodules"]],
            [_sphere(n) for n in pair.truth["nodules"]],
            [_sphere(e) for e in pair.truth["excluded"]],
        )
        for pair in pairs
    ]
    curve, hits = froc_over_cases(cases, track.params["fp_rates"], inclusive=False)
    malignant, malignancy = [], []
    for pair, case_hits in zip(pairs, hits, strict=True):
        for nodule, best in zip(pair.truth["nodules"], case_hits.best, strict=True):
            if best is not None:
                malignant.append(int(nodule["malignant"]))
                malignancy.append(pair.predicted["nodules"][best]["malignancy"])
    metrics = {
        "cpm": curve.score,
        "sensitivity_at_fp_rates": {
            rate_key(r): s for r, s in zip(curve.rates, curve.sensitivity_at_rates, strict=True)
        },
        "nodules": sum(len(h.tp_probs) for h in hits),
        "nodules_hit": sum(b is not None for h in hits for b in h.best),
        "false_positives": sum(len(h.fp_probs) for h in hits),
        "malignancy_auroc": auroc(malignant, malignancy),
    }
    figures = (
        FrocData(
            "froc", curve.fps_per_case, curve.sensitivity, curve.rates, curve.sensitivity_at_rates
        ),
        RocData("malignancy_roc", tuple(malignant), tuple(malignancy)),
    )
    return TrackResult(curve.score, metrics, figures=figures)
