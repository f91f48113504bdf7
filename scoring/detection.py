"""Point detections: hit matching by distance (*formula*) and the FROC from MONAI.

No library matches points to spheres the way LUNA16 and ADAM do, so that part is written out;
the FROC curve and its score come from `monai.metrics`, fed so that its two traps cannot bite:
it drops the lowest probability it sees (a 0-probability sentinel is always added, so that is
the one dropped) and its default FP rates are CAMELYON16's (the rules always pass theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from monai.metrics import compute_froc_curve_data, compute_froc_score

Point = tuple[float, float, float]


@dataclass(frozen=True)
class Hits:
    """Outcome of matching one case's candidates to its targets.

    ``tp_probs[i]`` is the probability of the best candidate hitting target i (0 if missed) and
    ``best[i]`` that candidate's index (None if missed); ``fp_probs`` are the candidates that hit
    neither a target nor an excluded finding.
    """

    tp_probs: tuple[float, ...]
    best: tuple[int | None, ...]
    fp_probs: tuple[float, ...]


def match_hits(
    candidates: Sequence[tuple[Point, float]],
    targets: Sequence[tuple[Point, float]],
    excluded: Sequence[tuple[Point, float]] = (),
    *,
    inclusive: bool,
) -> Hits:
    """Match candidate points (world mm, probability) to target spheres (centre, radius mm).

    A candidate hits a target when its distance to the centre is < radius (LUNA16) or
    ≤ radius (``inclusive``, ADAM). Per target only the most probable hit counts (the first
    such candidate on a tie); a candidate that hits any target, or only an excluded finding,
    is never a false positive. A candidate may hit two overlapping targets, as in LUNA16.
    """
    probabilities = np.array([p for _, p in candidates], dtype=float)
    hit_target = _within(candidates, targets, inclusive)
    hit_excluded = _within(candidates, excluded, inclusive)
    tp_probs: list[float] = []
    best: list[int | None] = []
    for column in hit_target.T:
        hitting = np.flatnonzero(column)
        if hitting.size == 0:
            tp_probs.append(0.0)
            best.append(None)
        else:
            winner = int(hitting[np.argmax(probabilities[hitting])])
            tp_probs.append(float(probabilities[winner]))
            best.append(winner)
    false = ~(hit_target.any(axis=1) | hit_excluded.any(axis=1))
    return Hits(tuple(tp_probs), tuple(best), tuple(float(p) for p in probabilities[false]))


def _within(
    candidates: Sequence[tuple[Point, float]], spheres: Sequence[tuple[Point, float]], inclusive
) -> np.ndarray:
    if not candidates or not spheres:
        return np.zeros((len(candidates), len(spheres)), dtype=bool)
    points = np.array([c for c, _ in candidates], dtype=float)
    centres = np.array([c for c, _ in spheres], dtype=float)
    radii = np.array([r for _, r in spheres], dtype=float)
    distance = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    return distance <= radii if inclusive else distance < radii


@dataclass(frozen=True)
class Froc:
    fps_per_case: tuple[float, ...]  # curve, from the loosest threshold to the strictest
    sensitivity: tuple[float, ...]
    rates: tuple[float, ...]
    sensitivity_at_rates: tuple[float, ...]  # linear interpolation on the curve, as MONAI
    score: float  # mean of sensitivity_at_rates (LUNA16 CPM for the seven LUNA16 rates)


def froc(
    tp_probs: Sequence[float],
    fp_probs: Sequence[float],
    num_targets: int,
    num_cases: int,
    rates: Sequence[float],
) -> Froc:
    """FROC over all cases; a missed target enters with probability 0 (never detected)."""
    fp = np.asarray([*fp_probs, 0.0], dtype=float)  # the sentinel MONAI drops
    tp = np.asarray(tp_probs, dtype=float)
    fps, sensitivity = compute_froc_curve_data(fp, tp, num_targets, num_cases)
    rates = tuple(float(r) for r in rates)
    at_rates = np.interp(rates, fps[::-1], sensitivity[::-1])
    score = float(compute_froc_score(fps, sensitivity, rates))
    return Froc(
        tuple(float(v) for v in fps),
        tuple(float(v) for v in sensitivity),
        rates,
        tuple(float(v) for v in at_rates),
        score,
    )


def froc_over_cases(
    cases: Sequence[tuple[Sequence[tuple[Point, float]], Sequence[tuple[Point, float]], Sequence]],
    rates: Sequence[float],
    *,
    inclusive: bool,
) -> tuple[Froc, list[Hits]]:
    """Match each case's (candidates, targets, excluded) and pool them into one FROC."""
    hits = [match_hits(c, t, e, inclusive=inclusive) for c, t, e in cases]
    tp = [p for h in hits for p in h.tp_probs]
    fp = [p for h in hits for p in h.fp_probs]
    return froc(tp, fp, len(tp), len(cases), rates), hits


def rate_key(rate: float) -> str:
    """A JSON key for an FP rate: 0.125 -> "0.125", 1.0 -> "1"."""
    return f"{rate:g}"
