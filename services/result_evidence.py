"""Where a result stands in the ledger, and the proof a team can take away: the recorded
scores a line of the standings uses (``huiyan results export``, the team's results page), each
entry's receipt with its inclusion proof, and the figures drawn from a recorded score.

A receipt is what the ledger gave back when it took the event (position, leaf hash, previous
hash, key, signature); the inclusion proof shows the entry is in the latest signed checkpoint,
so anyone can check offline, with the ledger's public key, that the score was recorded and not
changed since (ledger/ledger.py, docs/ledger.md).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.judging_read_models import ReviewListing
from ledger.ledger import Ledger, LedgerError
from ledger.rows import Entry
from scoring.figures import ConfusionData, Figure, FrocData, RocCurveData
from services.judging_steps import JudgingDesk
from services.ledger_view import RECEIPT_FORMAT

SCORE_TOPICS = ("ScoreComputed", "ScoreSuperseded", "ScoreCorrected")


def score_entries(
    jd: JudgingDesk, submission_id: UUID, review: ReviewListing | None
) -> list[Entry]:
    """Every recorded score the line stands on, in ledger order: the submission's score events
    (computed, superseded, corrected) and the sheets of the round that counts (none before the
    entry's review was opened)."""
    entries = jd.ledger.entries_of([submission_id] + ([review.id] if review else []))
    used = []
    for entry in entries:
        kind = entry.topic.rsplit(".", 1)[-1]
        if entry.originator_id == submission_id and kind in SCORE_TOPICS:
            used.append(entry)
        elif review is not None and entry.originator_id == review.id and kind == "Scored":
            event = jd.judging.mapper.to_domain_event(_stored(entry))
            if event.round == review.round and str(event.expert) in review.sheets:
                used.append(entry)
    return used


def _stored(entry: Entry) -> StoredEvent:
    return StoredEvent(
        originator_id=entry.originator_id,
        originator_version=entry.originator_version,
        topic=entry.topic,
        state=entry.state,
    )


def receipt(ledger: Ledger, entry: Entry) -> dict[str, Any]:
    """The entry's receipt in the public format (``huiyan-receipt/v1``, the one /ledger's
    checker and ``services.ledger_view.check_receipt`` read), so that a team checks it there
    as it downloaded it; beside it the entry's chain link and ledger signature. When the
    latest checkpoint does not include the entry yet, the proof's fields are absent and
    ``proof_missing`` says why. The event's own bytes are left out: an expert's sheet names
    its expert, whom the team never learns; the leaf hash is what the proof proves."""
    shown: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "position": entry.position,
        "leaf_hash": entry.leaf_hash.hex(),
        "event": entry.topic.rsplit(".", 1)[-1],
        "prev_hash": entry.prev_hash.hex(),
        "key_id": entry.key_id,
        "signature": entry.signature.hex(),
    }
    try:
        shown.update(ledger.inclusion_proof(entry.position).as_json())
    except LedgerError as error:
        shown["proof_missing"] = str(error)
    return shown


def recorded_figures(score: dict[str, Any] | None) -> list[Figure]:
    """The figures a recorded score's aggregates allow: every confusion matrix (the track's,
    a gate's), the FROC operating points and every ROC curve's summary (scoring/curves.py:
    points over groups of cases and the AUC; the per-case scores stay in the sandbox's inputs).
    A score recorded before the summaries existed has no curves, and draws none."""
    if score is None:
        return []
    figures: list[Figure] = []
    for name, value in _walk("", {"metrics": score.get("metrics"), "gates": score.get("gates")}):
        if isinstance(value, dict) and {"labels", "matrix"} <= set(value):
            labels, matrix = value["labels"], value["matrix"]
            if _matrix(labels, matrix):
                rows = tuple(tuple(int(count) for count in row) for row in matrix)
                figures.append(ConfusionData(name, tuple(map(str, labels)), rows))
        elif name.endswith("sensitivity_at_fp_rates") and isinstance(value, dict) and value:
            points = sorted((float(rate), float(s)) for rate, s in value.items() if _number(s))
            if points and all(rate > 0 for rate, _ in points):
                rates, at = tuple(r for r, _ in points), tuple(s for _, s in points)
                figures.append(FrocData(name.rsplit(".", 1)[0] + ".froc", rates, at, rates, at))
    curves = score.get("curves")
    for curve in curves if isinstance(curves, list) else []:
        if _roc_curve(curve):
            points = (tuple(map(float, curve["fpr"])), tuple(map(float, curve["tpr"])))
            auc = None if curve["auc"] is None else float(curve["auc"])
            figures.append(RocCurveData(curve["name"], *points, auc))
    return figures


def _roc_curve(curve: Any) -> bool:
    return (
        isinstance(curve, dict)
        and curve.get("kind") == "roc"
        and isinstance(curve.get("name"), str)
        and isinstance(curve.get("fpr"), list)
        and isinstance(curve.get("tpr"), list)
        and len(curve["fpr"]) == len(curve["tpr"])
        and all(_number(v) for v in curve["fpr"] + curve["tpr"])
        and (curve.get("auc") is None or _number(curve.get("auc")))
    )


def _walk(path: str, value: Any) -> list[tuple[str, Any]]:
    found = [(path, value)] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _walk(f"{path}.{key}" if path else str(key), item)
    return found


def _matrix(labels: Any, matrix: Any) -> bool:
    return (
        isinstance(labels, list)
        and isinstance(matrix, list)
        and len(matrix) == len(labels)
        and all(isinstance(row, list) and len(row) == len(labels) for row in matrix)
        and all(isinstance(c, int) for row in matrix for c in row)
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
