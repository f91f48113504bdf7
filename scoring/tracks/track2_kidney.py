"""Track 2, kidney CT: mean of Dice and surface Dice over the KiTS nested regions."""

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
    return Record({"mask": FileRef(labels=True), "malignancy": PROBABILITY})


def truth_schema(track: TrackRules) -> Record:
    return Record({"mask": FileRef(labels=True), "malignant": Boolean()})


def score(pairs: Sequence, track: TrackRules, workers: int | None = None) -> TrackResult:
    regions = track.params["regions"]
    names = list(regions)
    scorer = RegionScorer(tolerances_mm=track.params["surface_dice_tolerance_mm"])
    per_case, dice, surface = {}, [], []
    for case in score_masks(pairs, "mask", regions, scorer, ("dice", "surface_dice"), workers):
        case_dice, case_surface = case.values["dice"], case.values["surface_dice"]
        dice.append(case_dice)
        surface.append(case_surface)
        per_case[case.case_id] = {
            "dice": dict(zip(names, case_dice, strict=True)),
            "surface_dice": dict(zip(names, case_surface, strict=True)),
        }
    dice_by_region = mean_by_region(dice, names)
    surface_by_region = mean_by_region(surface, names)
    mean_dice = sum(dice_by_region.values()) / len(names)
    mean_surface = sum(surface_by_region.values()) / len(names)
    primary = (mean_dice + mean_surface) / 2
    malignant = [int(pair.truth["malignant"]) for pair in pairs]
    malignancy = [pair.predicted["malignancy"] for pair in pairs]
    metrics = {
        "mean_dice_surface_dice": primary,
        "mean_dice": mean_dice,
        "mean_surface_dice": mean_surface,
        "dice": dice_by_region,
        "surface_dice": surface_by_region,
        "malignancy_auroc": auroc(malignant, malignancy),
    }
    return TrackResult(
        primary,
        metrics,
        per_case,
        (RocData("malignancy_roc", tuple(malignant), tuple(malignancy)),),
    )
