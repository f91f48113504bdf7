"""Label masks and the MONAI overlap metrics that score them (tracks 2 and 4).

Empty regions are scored as KiTS and BraTS do, stated once here: Dice is 1 when prediction and
truth are both empty and 0 when only one is (`DiceMetric(ignore_empty=False)`); surface Dice
likewise (MONAI gives NaN for both-empty, so it is not asked); HD95 is 0 when both are empty
and the rules' penalty (374 mm) when only one is. MONAI is then called only on two non-empty
masks, where its definitions need no patching.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch
from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric

from scoring.errors import PredictionsInvalid, Problem, TruthInvalid


def read_labels(
    path: Path, allowed: set[int], case_id: str, field: str, problems: list[Problem]
) -> tuple[np.ndarray, tuple[float, ...]] | None:
    """The mask as a (z, y, x) array and its spacing in the same order, or None with a problem.

    SimpleITK's arrays are (z, y, x) while its spacing is (x, y, z); MONAI needs them to agree.
    """
    image = sitk.ReadImage(str(path))
    array = sitk.GetArrayFromImage(image)
    spacing = tuple(reversed(image.GetSpacing()))
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > max(allowed):
        present = {low, high}
    else:
        present = set(np.flatnonzero(np.bincount(array.ravel().astype(np.int64))).tolist())
    unknown = sorted(present - allowed)
    if unknown:
        problems.append(
            Problem(case_id, field, f"unknown labels {unknown}; allowed {sorted(allowed)}")
        )
        return None
    return array, spacing


def crop_to_union(
    predicted: np.ndarray, truth: np.ndarray, margin: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Both masks cut to the box around either's foreground, plus a margin of background.

    Every metric here is unchanged by the cut (Dice counts no background; surface distances
    are measured between foreground edges, which the margin keeps intact), and on a CT volume
    the box is a small part of the grid: the cut makes scoring several times faster.
    """
    union = (predicted > 0) | (truth > 0)
    if not union.any():
        return predicted[:1, :1, :1], truth[:1, :1, :1]
    box = []
    for axis in range(union.ndim):
        others = tuple(a for a in range(union.ndim) if a != axis)
        present = np.flatnonzero(union.any(axis=others))
        box.append(slice(max(present[0] - margin, 0), present[-1] + margin + 1))
    return predicted[tuple(box)], truth[tuple(box)]


def region_channels(array: np.ndarray, regions: Mapping[str, Sequence[int]]) -> torch.Tensor:
    """One binary channel per nested region, batch-first: the shape MONAI's metrics expect."""
    channels = [np.isin(array, list(labels)) for labels in regions.values()]
    return torch.from_numpy(np.stack(channels)[None])


class RegionScorer:
    """Dice, surface Dice and HD95 per region for one case; built once per scoring run."""

    def __init__(
        self, tolerances_mm: Sequence[float] | None = None, hd_penalty_mm: float | None = None
    ) -> None:
        self._dice = DiceMetric(include_background=True, reduction="none", ignore_empty=False)
        self._surface_dice = [
            SurfaceDiceMetric(class_thresholds=[t], include_background=True, use_subvoxels=True)
            for t in tolerances_mm or ()
        ]
        self._hd_penalty = hd_penalty_mm
        self._hd95 = HausdorffDistanceMetric(
            include_background=True, percentile=95, reduction="none"
        )

    def dice(self, predicted: torch.Tensor, truth: torch.Tensor) -> list[float]:
        return [float(v) for v in self._dice(predicted, truth)[0]]

    def surface_dice(self, predicted, truth, spacing: Sequence[float]) -> list[float]:
        values = []
        for channel, metric in enumerate(self._surface_dice):
            pair = _pair(predicted, truth, channel)
            if pair is None:
                values.append(_empty_value(predicted, truth, channel, both=1.0, one=0.0))
                continue
            with _quiet_monai():
                values.append(float(metric(*pair, spacing=list(spacing))[0, 0]))
        return values

    def hd95(self, predicted, truth, spacing: Sequence[float]) -> list[float]:
        values = []
        for channel in range(predicted.shape[1]):
            pair = _pair(predicted, truth, channel)
            if pair is None:
                values.append(
                    _empty_value(predicted, truth, channel, both=0.0, one=self._hd_penalty)
                )
                continue
            with _quiet_monai():
                values.append(float(self._hd95(*pair, spacing=list(spacing))[0, 0]))
        return values


@contextlib.contextmanager
def _quiet_monai() -> Iterator[None]:
    """MONAI 1.5+ warns on every call about its own use of a deprecated argument."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _pair(predicted: torch.Tensor, truth: torch.Tensor, channel: int):
    p, t = predicted[:, channel : channel + 1], truth[:, channel : channel + 1]
    if not bool(p.any()) or not bool(t.any()):
        return None
    return p, t


def _empty_value(predicted, truth, channel: int, *, both: float, one: float) -> float:
    either = bool(predicted[:, channel].any()) or bool(truth[:, channel].any())
    return float(one) if either else float(both)


def read_case_masks(pairs: Sequence, predicted_field: str, regions: Mapping[str, Sequence[int]]):
    """Yield (pair, predicted channels, truth channels, spacing) for each case, in order.

    Labels outside the track's regions are problems: a team's are raised together as
    `PredictionsInvalid` and the organiser's as `TruthInvalid` once every case has been read,
    so nothing is reported from a partly read set.
    """
    allowed = {0} | {label for labels in regions.values() for label in labels}
    predicted_problems: list[Problem] = []
    truth_problems: list[Problem] = []
    for pair in pairs:
        truth = read_labels(
            pair.truth_files["mask"], allowed, pair.case_id, "track.mask", truth_problems
        )
        predicted = read_labels(
            pair.predicted_files[predicted_field],
            allowed,
            pair.case_id,
            f"track.{predicted_field}",
            predicted_problems,
        )
        if truth is None or predicted is None:
            continue
        predicted_array, truth_array = crop_to_union(predicted[0], truth[0])
        yield (
            pair,
            region_channels(predicted_array, regions),
            region_channels(truth_array, regions),
            truth[1],
        )
    if truth_problems:
        raise TruthInvalid(truth_problems)
    if predicted_problems:
        raise PredictionsInvalid(predicted_problems)


def mean_by_region(per_case: Sequence[Sequence[float]], regions: Sequence[str]) -> dict[str, float]:
    """Average over cases for each region (KiTS order: cases first, then regions)."""
    array = np.asarray(per_case, dtype=float).reshape(len(per_case), len(regions))
    return {region: float(v) for region, v in zip(regions, array.mean(axis=0), strict=True)}
