"""Label masks and the MONAI overlap metrics that score them (tracks 2 and 4).

Empty regions are scored as KiTS and BraTS do, stated once here: Dice is 1 when prediction and
truth are both empty and 0 when only one is (`compute_dice(ignore_empty=False)`); surface Dice
likewise (MONAI gives NaN for both-empty, so it is not asked); HD95 is 0 when both are empty
and the rules' penalty (374 mm) when only one is. MONAI is then called only on two non-empty
masks, where its definitions need no patching.

MONAI is called through its functional forms (`compute_dice`, `compute_surface_dice`,
`compute_hausdorff_distance`): its metric objects keep every result they compute in a buffer
until reset, which grows with the number of cases. Each case is scored by `score_case`, a
plain function of picklable inputs, so a large set runs on every core (`scoring.parallel`) and
its results come back in case order.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance, compute_surface_dice

from scoring.errors import FileRefused, PredictionsInvalid, Problem, TruthInvalid
from scoring.images import read_array, read_header, read_information
from scoring.parallel import map_cases, one_thread


def read_labels(
    path: Path, allowed: set[int], case_id: str, field: str, problems: list[Problem]
) -> np.ndarray | None:
    """The mask as a (z, y, x) array, or None with a problem (unreadable, or unknown labels).

    Labels are checked from the minimum and maximum alone when the allowed labels have no gap
    (every track's do): nothing the size of the volume is allocated.
    """
    try:
        array = read_array(path)
    except FileRefused as refused:
        problems.append(Problem(case_id, field, str(refused)))
        return None
    top = max(allowed)
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > top:
        unknown = sorted({low, high} - allowed)
    else:
        gaps = [label for label in range(low, high + 1) if label not in allowed]
        unknown = [label for label in gaps if bool((array == label).any())]
    if unknown:
        problems.append(
            Problem(case_id, field, f"unknown labels {unknown}; allowed {sorted(allowed)}")
        )
        return None
    return array


def spacing_zyx(path: Path) -> tuple[float, ...]:
    """The spacing in (z, y, x) order, SimpleITK's array order, as MONAI needs it."""
    return tuple(reversed(read_information(path).spacing))


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


@dataclass(frozen=True)
class RegionScorer:
    """Dice, surface Dice and HD95 per region of one case. It keeps nothing between calls."""

    tolerances_mm: tuple[float, ...] = ()
    hd_penalty_mm: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerances_mm", tuple(float(t) for t in self.tolerances_mm))

    def dice(self, predicted: torch.Tensor, truth: torch.Tensor) -> list[float]:
        values = compute_dice(predicted, truth, include_background=True, ignore_empty=False)
        return [float(v) for v in values[0]]

    def surface_dice(self, predicted, truth, spacing: Sequence[float]) -> list[float]:
        def compute(p, t, channels):
            return compute_surface_dice(
                p,
                t,
                class_thresholds=[self.tolerances_mm[c] for c in channels],
                include_background=True,
                spacing=list(spacing),
                use_subvoxels=True,
            )

        return _where_both_present(predicted, truth, compute, both=1.0, one=0.0)

    def hd95(self, predicted, truth, spacing: Sequence[float]) -> list[float]:
        def compute(p, t, channels):
            return compute_hausdorff_distance(
                p, t, include_background=True, percentile=95, spacing=list(spacing)
            )

        return _where_both_present(predicted, truth, compute, both=0.0, one=self.hd_penalty_mm)


def _where_both_present(predicted, truth, compute, *, both: float, one) -> list[float]:
    """``compute`` (one MONAI call) on the regions present in both masks; the others get the
    empty rule's value: ``both`` when neither mask has the region, ``one`` when one has."""
    flat = predicted.shape[:2] + (-1,)
    in_predicted = predicted.reshape(flat).any(dim=2)[0].tolist()
    in_truth = truth.reshape(flat).any(dim=2)[0].tolist()
    values = [
        float(one) if p or t else float(both) for p, t in zip(in_predicted, in_truth, strict=True)
    ]
    channels = [c for c, (p, t) in enumerate(zip(in_predicted, in_truth, strict=True)) if p and t]
    if channels:
        index = torch.tensor(channels)
        with _quiet_monai():
            result = compute(predicted[:, index], truth[:, index], channels)
        for position, channel in enumerate(channels):
            values[channel] = float(result[0, position])
    return values


@contextlib.contextmanager
def _quiet_monai() -> Iterator[None]:
    """MONAI 1.5+ warns on every call about its own use of a deprecated argument."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


# --- one case at a time, on as many cores as there are ------------------------------------------


@dataclass(frozen=True)
class MaskCase:
    """What a worker process needs to score one case (paths and plain data: picklable)."""

    case_id: str
    predicted: Path
    truth: Path
    field: str
    regions: tuple[tuple[str, tuple[int, ...]], ...]
    scorer: RegionScorer
    measures: tuple[str, ...]  # of "dice", "surface_dice", "hd95"


@dataclass(frozen=True)
class MaskScores:
    case_id: str
    values: dict[str, list[float]] = field(default_factory=dict)  # measure -> one per region
    truth_problems: tuple[Problem, ...] = ()
    predicted_problems: tuple[Problem, ...] = ()


def score_case(case: MaskCase) -> MaskScores:
    """Read both masks, check their labels, and compute the measures on the cut-down box."""
    regions = dict(case.regions)
    allowed = {0} | {label for labels in regions.values() for label in labels}
    truth_problems: list[Problem] = []
    predicted_problems: list[Problem] = []
    truth = read_labels(case.truth, allowed, case.case_id, "track.mask", truth_problems)
    predicted = read_labels(case.predicted, allowed, case.case_id, case.field, predicted_problems)
    if truth is None or predicted is None:
        return MaskScores(case.case_id, {}, tuple(truth_problems), tuple(predicted_problems))
    spacing = spacing_zyx(case.truth)
    predicted_cut, truth_cut = crop_to_union(predicted, truth)
    predicted_channels = region_channels(predicted_cut, regions)
    truth_channels = region_channels(truth_cut, regions)
    values = {}
    with one_thread():
        for measure in case.measures:
            if measure == "dice":
                values[measure] = case.scorer.dice(predicted_channels, truth_channels)
            else:
                method = getattr(case.scorer, measure)
                values[measure] = method(predicted_channels, truth_channels, spacing)
    return MaskScores(case.case_id, values)


def score_masks(
    pairs: Sequence,
    predicted_field: str,
    regions: Mapping[str, Sequence[int]],
    scorer: RegionScorer,
    measures: tuple[str, ...],
    workers: int | None = None,
) -> list[MaskScores]:
    """Every case's measures, in the order of ``pairs``.

    Labels outside the track's regions and unreadable files are problems: a team's are raised
    together as `PredictionsInvalid` and the organiser's as `TruthInvalid` once every case has
    been read, so nothing is reported from a partly read set.
    """
    frozen = tuple((name, tuple(labels)) for name, labels in regions.items())
    cases = [
        MaskCase(
            pair.case_id,
            pair.predicted_files[predicted_field],
            pair.truth_files["mask"],
            f"track.{predicted_field}",
            frozen,
            scorer,
            measures,
        )
        for pair in pairs
    ]
    results = map_cases(score_case, cases, voxels=_voxels(c.truth for c in cases), workers=workers)
    truth_problems = [p for r in results for p in r.truth_problems]
    predicted_problems = [p for r in results for p in r.predicted_problems]
    if truth_problems:
        raise TruthInvalid(truth_problems)
    if predicted_problems:
        raise PredictionsInvalid(predicted_problems)
    return results


def _voxels(paths) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(FileRefused):
            total += read_header(path).voxels
    return total


def mean_by_region(per_case: Sequence[Sequence[float]], regions: Sequence[str]) -> dict[str, float]:
    """Average over cases for each region (KiTS order: cases first, then regions)."""
    array = np.asarray(per_case, dtype=float).reshape(len(per_case), len(regions))
    return {region: float(v) for region, v in zip(regions, array.mean(axis=0), strict=True)}
