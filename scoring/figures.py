"""The data behind each figure a track reports; `scoring.plots` draws them.

Kept apart from the drawing so that scoring never imports matplotlib unless a picture is asked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RocData:
    name: str
    y_true: tuple[int, ...]
    y_score: tuple[float, ...]


@dataclass(frozen=True)
class RocCurveData:
    """A ROC curve as its summary records it (`scoring.curves`): a few (fpr, tpr) points and
    the AUC, without the per-case values a `RocData` holds, so it may leave the sandbox."""

    name: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    auc: float | None


@dataclass(frozen=True)
class FrocData:
    name: str
    fps_per_case: tuple[float, ...]
    sensitivity: tuple[float, ...]
    rates: tuple[float, ...]
    sensitivity_at_rates: tuple[float, ...]


@dataclass(frozen=True)
class ConfusionData:
    name: str
    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # rows: truth, columns: prediction


Figure = RocData | RocCurveData | FrocData | ConfusionData
