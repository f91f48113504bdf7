"""Score one track: (predictions, truth, rules) -> the metric breakdown, as canonical JSON.

The breakdown names everything needed to recompute it bit for bit (SCORING.md §3): the rules
version and SHA-256, the versions of the scoring code and of the libraries that compute the
metrics, and the SHA-256 of the predictions and the truth and of every file they name. Its
JSON form has sorted keys and no NaN, so the same inputs give the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from scoring import gates
from scoring.curves import roc_summary
from scoring.figures import Figure, RocData
from scoring.rules import Rules
from scoring.tracks import track_module
from scoring.validation import CaseSet, load_predictions, load_truth, scored_pairs
from scoring.version import CODE_HASH_KEY, scoring_code_sha256

# Distributions whose versions can change a score; their versions are part of the breakdown.
SCORING_DISTRIBUTIONS = (
    "huiyan",
    "monai",
    "torch",
    "scikit-learn",
    "picai_eval",
    "SimpleITK",
    "numpy",
    "scipy",
)


@dataclass(frozen=True)
class Scored:
    breakdown: dict[str, Any]
    figures: tuple[Figure, ...]


def scoring_code_version() -> dict[str, str]:
    """The versions of the distributions that compute a score, and the SHA-256 of the scoring
    code itself: a package version does not change when someone edits the installed code, so
    an old score re-computed later shows whether the same code ran."""
    versions = {CODE_HASH_KEY: scoring_code_sha256()}
    for name in SCORING_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def score_track(
    track: int,
    predictions_path: Path,
    truth_path: Path,
    rules: Rules,
    workers: int | None = None,
) -> Scored:
    """Validate both files, run both gates and the track's metrics; raise on invalid input.

    ``workers``: processes for the tracks that read image files (None: one per available core,
    used only for a large set, see `scoring.parallel`); it never changes a byte of the result.
    """
    truth = load_truth(Path(truth_path), track, rules)
    predictions = load_predictions(Path(predictions_path), truth, track, rules)
    authenticity, authenticity_figures = gates.authenticity(predictions, truth, rules.authenticity)
    conformity, conformity_figures = gates.conformity(predictions, truth, rules.conformity)
    track_rules = rules.track(track)
    module = track_module(track)
    pairs = scored_pairs(predictions, truth)
    if module.SAME_GRID:  # the tracks that read image files score their cases in parallel
        result = module.score(pairs, track_rules, workers=workers)
    else:
        result = module.score(pairs, track_rules)
    breakdown = {
        "track": track,
        "track_name": track_rules.name,
        "rules": {"version": rules.version, "sha256": rules.sha256},
        "scoring_code": scoring_code_version(),
        "predictions": predictions.digest.as_dict(),
        "truth": truth.digest.as_dict(),
        "cases": {"total": len(truth.cases), "scored_by_track": _count(truth)},
        "gates": {
            "authenticity": authenticity,
            "conformity": conformity,
            "passed": authenticity["passed"] and conformity["passed"],
        },
        "primary": {"name": track_rules.primary, "value": result.primary},
        "metrics": result.metrics,
        "per_case": result.cases,
    }
    figures = (*authenticity_figures, *conformity_figures, *result.figures)
    # The curves' summaries, not their cases, are what a team may see (scoring/curves.py).
    breakdown["curves"] = [roc_summary(f) for f in figures if isinstance(f, RocData)]
    return Scored(breakdown, figures)


def _count(truth: CaseSet) -> int:
    return sum(entry.track is not None for entry in truth.cases.values())


def to_json(breakdown: dict[str, Any]) -> bytes:
    """Canonical bytes: sorted keys, fixed separators, UTF-8, NaN refused."""
    _refuse_nan(breakdown)
    text = json.dumps(breakdown, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _refuse_nan(value: Any, path: str = "") -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"breakdown{path} is {value!r}; undefined values must be None")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nan(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_nan(item, f"{path}[{index}]")
