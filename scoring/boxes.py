"""PASCAL VOC 2010 mean average precision for finding boxes (*formula*; VinBigData CXR).

No library computes VOC 2010 AP: scikit-learn's AP is not interpolated, COCO's samples 101
recall points, picai's counts missed lesions. Written out here and tested on worked examples.
Boxes are (x0, y0, x1, y1) in continuous world coordinates, so the area has no VOC "+1 pixel".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def voc_ap(recall: Sequence[float], precision: Sequence[float]) -> float:
    """Area under the precision envelope (max precision at any higher recall), all points."""
    r = np.concatenate(([0.0], np.asarray(recall, dtype=float), [1.0]))
    p = np.concatenate(([0.0], np.asarray(precision, dtype=float), [0.0]))
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def average_precision(
    detections: Sequence[tuple[str, Box, float]],
    truth: Mapping[str, Sequence[Box]],
    iou_threshold: float,
) -> float | None:
    """VOC AP of one class; None when the truth holds no box of it.

    Detections (image, box, score) are taken by falling score (ties: image, then given order);
    each matches the unmatched truth box of its image with the highest IoU if that IoU is
    strictly above the threshold, else it is a false positive; a truth box matches once.
    """
    positives = sum(len(boxes) for boxes in truth.values())
    if positives == 0:
        return None
    order = sorted(range(len(detections)), key=lambda i: (-detections[i][2], detections[i][0], i))
    used = {image: [False] * len(boxes) for image, boxes in truth.items()}
    tp = np.zeros(len(order))
    for rank, index in enumerate(order):
        image, box, _ = detections[index]
        candidates = truth.get(image, ())
        overlaps = [iou(box, t) for t in candidates]
        if overlaps:
            best = int(np.argmax(overlaps))
            if overlaps[best] > iou_threshold and not used[image][best]:
                used[image][best] = True
                tp[rank] = 1
    tp_cum = np.cumsum(tp)
    fp_cum = np.cumsum(1 - tp)
    recall = tp_cum / positives
    precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(float).eps)
    return voc_ap(recall, precision)


def mean_average_precision(
    detections: Sequence[tuple[str, str, Box, float]],
    truth: Sequence[tuple[str, str, Box]],
    labels: Sequence[str],
    iou_threshold: float,
) -> tuple[float | None, dict[str, float | None]]:
    """mAP over the labels that have truth boxes; detections are (image, label, box, score)."""
    per_label: dict[str, float | None] = {}
    for label in labels:
        boxes: dict[str, list[Box]] = {}
        for image, truth_label, box in truth:
            if truth_label == label:
                boxes.setdefault(image, []).append(box)
        found = [(image, box, s) for image, det_label, box, s in detections if det_label == label]
        per_label[label] = average_precision(found, boxes, iou_threshold)
    defined = [v for v in per_label.values() if v is not None]
    return (float(np.mean(defined)) if defined else None), per_label
