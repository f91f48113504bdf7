"""One module per track: its prediction and truth schemas and its metrics (SCORING.md §3).

Each module offers ``prediction_schema(track)``, ``truth_schema(track)``, ``SAME_GRID`` (which
predicted file must share which truth file's image grid) and ``score(pairs, track)``. A track
whose predictions name image files (``SAME_GRID`` not empty) scores its cases one by one and
takes ``score(pairs, track, workers=...)`` (`scoring.parallel`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from scoring.figures import Figure

_MODULES = {
    1: "track1_lung",
    2: "track2_kidney",
    3: "track3_aneurysm",
    4: "track4_glioma",
    5: "track5_prostate",
    6: "track6_mammography",
    7: "track7_thyroid",
    8: "track8_chest_xray",
}


@dataclass(frozen=True)
class TrackResult:
    """A track's metrics: the primary value (0-1), everything reported, and per-case figures."""

    primary: float
    metrics: dict[str, Any]
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: tuple[Figure, ...] = ()


def track_module(track: int) -> ModuleType:
    return importlib.import_module(f"scoring.tracks.{_MODULES[track]}")
