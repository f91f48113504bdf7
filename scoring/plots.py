"""ROC, FROC and confusion-matrix pictures (PNG) for the web pages and the audit bundle.

Drawn with matplotlib's Agg backend and no timestamp or software tag in the file, so the same
figure data give the same PNG bytes on the same library versions.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from scoring.figures import ConfusionData, Figure, FrocData, RocCurveData, RocData  # noqa: E402

_SIZE = (4.0, 4.0)
_DPI = 100
_METADATA = {"Software": None}


def render(figure: Figure) -> bytes:
    """PNG bytes of one figure; a ROC whose truth holds one class draws a note instead."""
    fig, axes = plt.subplots(figsize=_SIZE, dpi=_DPI)
    try:
        if isinstance(figure, RocData):
            _roc(axes, figure)
        elif isinstance(figure, RocCurveData):
            _roc_curve(axes, figure)
        elif isinstance(figure, FrocData):
            _froc(axes, figure)
        else:
            _confusion(axes, figure)
        axes.set_title(figure.name.replace("_", " "))
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata=_METADATA)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def write_figures(figures: Iterable[Figure], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in figures:
        path = folder / f"{figure.name}.png"
        path.write_bytes(render(figure))
        written.append(path)
    return written


def _roc(axes, figure: RocData) -> None:
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    if len(set(figure.y_true)) < 2:
        axes.text(0.5, 0.5, "undefined: one class only", ha="center")
    else:
        fpr, tpr, _ = roc_curve(np.asarray(figure.y_true), np.asarray(figure.y_score))
        axes.plot(fpr, tpr, drawstyle="steps-post")
    _roc_axes(axes)


def _roc_curve(axes, figure: RocCurveData) -> None:
    """A recorded curve summary: its points joined by straight lines (each spans a group of
    cases, scoring/curves.py), the AUC computed from every case in the legend."""
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    if figure.auc is None or len(figure.fpr) < 2:
        axes.text(0.5, 0.5, "undefined: one class only", ha="center")
    else:
        axes.plot(figure.fpr, figure.tpr, marker=".", label=f"AUC {figure.auc:.3f}")
        axes.legend(loc="lower right")
        if len(figure.fpr) == 2:
            axes.text(0.5, 0.1, "too few cases for more points", ha="center")
    _roc_axes(axes)


def _roc_axes(axes) -> None:
    axes.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="false positive rate", ylabel="sensitivity")


def _froc(axes, figure: FrocData) -> None:
    fps = np.asarray(figure.fps_per_case)
    finite = np.isfinite(fps)
    axes.plot(fps[finite], np.asarray(figure.sensitivity)[finite], drawstyle="steps-post")
    axes.plot(figure.rates, figure.sensitivity_at_rates, "o")
    axes.set_xscale("log", base=2)
    axes.set(
        xlim=(min(figure.rates) / 2, max(figure.rates) * 2),
        ylim=(0, 1.02),
        xlabel="false positives per case",
        ylabel="sensitivity",
    )


def _confusion(axes, figure: ConfusionData) -> None:
    matrix = np.asarray(figure.matrix)
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(figure.labels))
    axes.set_xticks(ticks, figure.labels, rotation=45, ha="right")
    axes.set_yticks(ticks, figure.labels)
    axes.set(xlabel="predicted", ylabel="truth")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center")
