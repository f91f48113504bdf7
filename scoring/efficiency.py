"""Efficiency score (SCORING.md §4): min(1, T_ref / median per-case inference time).

The median, not the mean, so that one slow case (a cold cache, a huge volume) does not decide
it; T_ref comes from the rules for each track. A failed run has no efficiency score: callers
do not call this for one.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def efficiency_score(case_seconds: Sequence[float], t_ref_seconds: float) -> float:
    if not case_seconds:
        raise ValueError("efficiency needs the inference time of at least one case")
    bad = [t for t in case_seconds if not (math.isfinite(t) and t >= 0)]
    if bad:
        raise ValueError(f"per-case times must be finite and ≥ 0, got {bad[0]!r}")
    if not (math.isfinite(t_ref_seconds) and t_ref_seconds > 0):
        raise ValueError(f"T_ref must be a positive number of seconds, got {t_ref_seconds!r}")
    median = statistics.median(case_seconds)
    return 1.0 if median == 0 else min(1.0, t_ref_seconds / median)
