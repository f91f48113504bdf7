"""Track 8, chest X-ray: mean AUROC over the 14 ChestX-ray14 labels; optional box mAP@0.4."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from scoring.boxes import mean_average_precision
from scoring.errors import Problem, TruthInvalid
from scoring.figures import RocData
from scoring.rules import TrackRules
from scoring.schema import COORDINATE, PROBABILITY, Keys, ListOf, Node, OneOf, Record, Report
from scoring.tracks import TrackResult

SAME_GRID: dict[str, str] = {}
_CORNERS = {"x0": COORDINATE, "y0": COORDINATE, "x1": COORDINATE, "y1": COORDINATE}


class _Binary(Node):
    def check(self, value, path: str, report: Report) -> None:
        if isinstance(value, bool) or value not in (0, 1):
            report.add(path, f"must be 0 or 1, got {value!r}")


def prediction_schema(track: TrackRules) -> Record:
    labels = track.params["labels"]
    box = Record({"label": OneOf(labels), **_CORNERS, "probability": PROBABILITY})
    return Record({"findings": Keys(labels, PROBABILITY)}, optional={"boxes": ListOf(box)})


def truth_schema(track: TrackRules) -> Record:
    labels = track.params["labels"]
    box = Record({"label": OneOf(labels), **_CORNERS})
    return Record({"findings": Keys(labels, _Binary())}, optional={"boxes": ListOf(box)})


def score(pairs: Sequence, track: TrackRules) -> TrackResult:
    labels = list(track.params["labels"])
    y_true = np.array([[pair.truth["findings"][label] for label in labels] for pair in pairs])
    y_score = np.array([[pair.predicted["findings"][label] for label in labels] for pair in pairs])
    # A label whose truth holds one class only has no AUROC: reported null, left out of the mean.
    defined = [i for i in range(len(labels)) if np.unique(y_true[:, i]).size == 2]
    if not defined:
        raise TruthInvalid(
            [Problem(None, "cases", "no label has both positive and negative cases: no AUROC")]
        )
    values = roc_auc_score(y_true[:, defined], y_score[:, defined], average=None)
    per_label: dict[str, float | None] = dict.fromkeys(labels)
    for i, value in zip(defined, np.atleast_1d(values), strict=True):
        per_label[labels[i]] = float(value)
    primary = float(np.mean([per_label[labels[i]] for i in defined]))
    metrics = {"mean_auroc": primary, "auroc": per_label}
    if any("boxes" in pair.truth for pair in pairs):
        box_map, box_ap = mean_average_precision(
            [
                (pair.case_id, b["label"], (b["x0"], b["y0"], b["x1"], b["y1"]), b["probability"])
                for pair in pairs
                for b in pair.predicted.get("boxes", [])
            ],
            [
                (pair.case_id, b["label"], (b["x0"], b["y0"], b["x1"], b["y1"]))
                for pair in pairs
                for b in pair.truth.get("boxes", [])
            ],
            labels,
            track.params["box_iou_threshold"],
        )
        metrics["box_map"] = box_map
        metrics["box_ap"] = box_ap
    figures = tuple(
        RocData(
            f"roc_{labels[i]}",
            tuple(int(v) for v in y_true[:, i]),
            tuple(map(float, y_score[:, i])),
        )
        for i in defined
    )
    return TrackResult(primary, metrics, figures=figures)
