"""Re-scoring from the recorded inputs (architecture rule 4): the submission's predictions and
its test set's truth, by the hashes its events carry, under the rules document of a published
version, in the same scoring sandbox the worker used. Same inputs give the same bytes: the
answer is "same bytes" when the breakdown equals the recorded one byte for byte, or the figures
that differ.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from domain.submissions import Submission, aggregate_figures
from ledger.settings import Settings
from workers.jobs import predictions_folder
from workers.models import testset_store
from workers.scoring_sandbox import ScorerFault, score_in_sandbox


class RescoreFailed(Exception):
    """The recorded inputs could not be scored (missing files, a scorer fault)."""


@dataclass(frozen=True)
class Rescore:
    recorded_sha256: str | None
    breakdown_sha256: str
    breakdown_json: bytes
    differences: dict[str, tuple[Any, Any]]

    @property
    def breakdown(self) -> dict[str, Any]:
        return json.loads(self.breakdown_json)

    @property
    def same_bytes(self) -> bool:
        return self.recorded_sha256 == self.breakdown_sha256

    def as_json(self) -> dict[str, Any]:
        return {
            "same_bytes": self.same_bytes,
            "recorded_breakdown_sha256": self.recorded_sha256,
            "recomputed_breakdown_sha256": self.breakdown_sha256,
            "differences": {
                k: {"recorded": a, "recomputed": b} for k, (a, b) in self.differences.items()
            },  # fmt: skip
        }


def rescore(
    settings: Settings,
    submission: Submission,
    rules_document: bytes,
    recorded_breakdown: dict[str, Any] | None = None,
) -> Rescore:
    """``recorded_breakdown``: the whole recorded breakdown (from the blob store), compared
    field by field; without it the event's aggregate figures are."""
    score, inference = submission.score, submission.inference
    if score is None or inference is None:
        raise RescoreFailed("the submission has no recorded score")
    predictions = predictions_folder(settings, inference["output_sha256"])
    truth = testset_store(settings).path(submission.testset_sha256) / "truth"
    if not predictions.is_dir() or not truth.is_dir():
        raise RescoreFailed("the recorded predictions or truth are no longer stored")
    try:
        outcome = score_in_sandbox(settings, submission.track, predictions, truth, rules_document)
    except ScorerFault as fault:
        raise RescoreFailed(f"the scorer failed: {fault}") from None
    if outcome.breakdown_json is None:
        raise RescoreFailed(f"the scorer refused the recorded inputs: {outcome.refused}")
    if recorded_breakdown is not None:
        differences = _differences(recorded_breakdown, outcome.breakdown)
    else:
        differences = _differences(score["breakdown"], aggregate_figures(outcome.breakdown))
    return Rescore(
        recorded_sha256=score["breakdown_sha256"],
        breakdown_sha256=hashlib.sha256(outcome.breakdown_json).hexdigest(),
        breakdown_json=outcome.breakdown_json,
        differences=differences,
    )


def _differences(recorded: Any, recomputed: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    """Leaf by leaf, where the recorded figures and the recomputed ones differ."""
    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        found: dict[str, tuple[Any, Any]] = {}
        for key in sorted(set(recorded) | set(recomputed)):
            found |= _differences(recorded.get(key), recomputed.get(key), f"{path}.{key}")
        return found
    same = json.dumps(recorded, sort_keys=True) == json.dumps(recomputed, sort_keys=True)
    return {} if same else {path.lstrip("."): (recorded, recomputed)}
