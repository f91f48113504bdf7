"""What an arbitrator replays: the events of one matter in ledger order, each with the
status of its ledger signature, its leaf hash and, for a decision, its maker's personal
signature (checked offline against the keys the ledger recorded, as ``signatures verify``
does). The audit issue adds time travel and bundles; this is the part an appeal needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from audit.signatures import check_event, signed_events
from domain.errors import SignatureInvalid
from ledger.ledger import Ledger


def timeline(
    ledger: Ledger, url: str, table: str, aggregates: Iterable[UUID]
) -> list[dict[str, Any]]:
    """One line per event of the ``aggregates`` (ids), oldest first."""
    entries = ledger.entries_of(list(aggregates))
    wanted = {entry.position for entry in entries}
    personal: dict[int, str] = {}
    for event, book in signed_events(url, table):
        if event.position in wanted:
            try:
                manifest = check_event(event, book)
                personal[event.position] = f"valid ({manifest.meaning}, by {manifest.signer})"
            except SignatureInvalid as error:
                personal[event.position] = f"INVALID: {error.message('en')}"
    keys = ledger.verifier_keys()
    return [
        {
            "position": entry.position,
            "event": entry.topic.rsplit(":", 1)[-1],
            "aggregate": str(entry.originator_id),
            "version": entry.originator_version,
            "leaf_hash": entry.leaf_hash.hex(),
            "ledger_signature": "valid"
            if entry.derived_leaf() == entry.leaf_hash and entry.signed_by(keys)
            else "INVALID",
            "personal_signature": personal.get(entry.position, "none (not a personal decision)"),
        }
        for entry in entries
    ]
