"""Track 4, glioma MRI: mean Dice over WT, TC, ET; HD95 per region; grade AUROC."""

from __future__ import annotations

from collections.abc import Sequence

from scoring.classification import auroc
from scoring.figures import RocData
from scoring.rules import TrackRules
from scoring.schema import PROBABILITY, Boolean, FileRef, Record
from scoring.segmentation import RegionScorer, mean_by_region, score_masks
from scoring.tracks import TrackResult

SAME_GRID = {"mask": "mask"}


def prediction_schema(track: TrackRules) -> Record:
    return Record({"mask": FileRef(labels=True), "grade_high": PROBABILITY})


def truth_schema(track: TrackRules) -> Record:
    return Record({"mask": FileRef(labels=True), "grade_high": Boolean()})


def score(pairs: Sequence, track: TrackRules, workers: int | None = None) -> TrackResult:
    regions = track.params["regions"]
    names = list(regions)
    scorer = RegionScorer(hd_penalty_mm=track.params["hd95_empty_penalty_mm"])
    per_case, dice, hd95 = {}, [], []
    for case in score_masks(pairs, "mask", regions, scorer, ("dice", "hd95"), workers):
        case_dice, case_hd95 = case.values["dice"], case.values["hd95"]
        dice.append(case_dice)
        hd95.append(case_hd95)
        per_case[case.case_id] = {
            "dice": dict(zip(names, case_dice, strict=True)),
            "hd95_mm": dict(zip(names, case_hd95, strict=True)),
        }
    dice_by_region = mean_by_region(dice, names)
    primary = sum(dice_by_region.values()) / len(names)
    grade = [int(pair.truth["grade_high"]) for pair in pairs]
    grade_score = [pair.predicted["grade_high"] for pair in pairs]
    metrics = {
        "mean_dice": primary,
        "dice": dice_by_region,
        "hd95_mm": mean_by_region(hd95, names),
        "grade_auroc": auroc(grade, grade_score),
    }
    return TrackResult(
        primary, metrics, per_case, (RocData("grade_roc", tuple(grade), tuple(grade_score)),)
    )
