"""Track 6, mammography: probabilistic F1 per breast (RSNA 2023), breast AUROC."""

from __future__ import annotations

from collections.abc import Sequence

from scoring.classification import auroc, probabilistic_f1, sensitivity_at_specificity
from scoring.errors import Problem, TruthInvalid
from scoring.figures import RocData
from scoring.rules import TrackRules
from scoring.schema import PROBABILITY, Boolean, Keys, Record
from scoring.tracks import TrackResult

SAME_GRID: dict[str, str] = {}
SIDES = ("L", "R")


def prediction_schema(track: TrackRules) -> Record:
    return Record({"breasts": Keys(SIDES, PROBABILITY)})


def truth_schema(track: TrackRules) -> Record:
    return Record({"breasts": Keys(SIDES, Boolean())})


def score(pairs: Sequence, track: TrackRules) -> TrackResult:
    malignant = [int(pair.truth["breasts"][side]) for pair in pairs for side in SIDES]
    probability = [pair.predicted["breasts"][side] for pair in pairs for side in SIDES]
    if len(set(malignant)) < 2:
        raise TruthInvalid(
            [Problem(None, "cases", "pF1 and AUROC need malignant and benign breasts")]
        )
    pf1 = probabilistic_f1(malignant, probability)
    specificity = track.params["specificity"]
    metrics = {
        "pf1": pf1,
        "auroc": auroc(malignant, probability),
        f"sensitivity_at_specificity_{specificity:g}": sensitivity_at_specificity(
            malignant, probability, specificity
        ),
        "breasts": len(malignant),
    }
    return TrackResult(
        pf1, metrics, figures=(RocData("breast_roc", tuple(malignant), tuple(probability)),)
    )
