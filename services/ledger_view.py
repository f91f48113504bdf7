"""The ledger as the compliance pages and the public page show it: its size, its latest signed
checkpoint with the witnesses' cosignatures, its keys and their windows, one event with its
inclusion proof, and receipts (made and checked).

Everything here reads through ``ledger.ledger.Ledger`` and checks with ``ledger.merkle`` and
``ledger.checkpoint``, as ``huiyan ledger proof|keys|checkpoint`` do; nothing is re-implemented.

A receipt (docs/web/compliance.md) is what ``huiyan ledger proof --json`` prints, with a
``format`` line: the event's position and leaf hash, the size of the checkpoint it is proved
against, the RFC 9162 inclusion path, and that checkpoint's signed note. Anyone holding the
ledger's public key checks it without asking the site anything.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from audit.matter import timeline
from ledger.checkpoint import CheckpointError, SignedCheckpoint, note_parts, parse_body, parse_note
from ledger.cosignature import check_cosignatures
from ledger.keys import VerifierKey
from ledger.ledger import Ledger, LedgerError
from ledger.merkle import ProofError, verify_inclusion
from ledger.verify import key_lifecycle

RECEIPT_FORMAT = "huiyan-receipt/v1"
MAX_RECEIPT_BYTES = 64 << 10
MAX_PATH = 64


@dataclass(frozen=True)
class WitnessView:
    name: str
    url: str
    vkey: str
    cosigned_at: str | None  # the cosignature's own time (UTC), None when none is kept
    invalid: str | None = None  # why a kept line does not verify


@dataclass(frozen=True)
class KeyView:
    vkey: str
    key_id: str
    first: int | None  # positions first..last are the key's to sign (None: never used yet)
    last: int | None  # None: still the active key
    revoked_from: int | None = None


@dataclass
class Health:
    size: int
    checkpoint: SignedCheckpoint | None
    witnesses: list[WitnessView] = field(default_factory=list)
    keys: list[KeyView] = field(default_factory=list)

    @property
    def unchecked(self) -> int:
        """Entries appended since the latest checkpoint (not yet provable)."""
        return self.size - (self.checkpoint.checkpoint.tree_size if self.checkpoint else 0)


def health(ledger: Ledger) -> Health:
    """Size, latest checkpoint and its witnesses, and the keys with their windows."""
    latest = ledger.latest_checkpoint()
    return Health(
        size=ledger.size(),
        checkpoint=latest,
        witnesses=witness_views(ledger, latest),
        keys=key_views(ledger),
    )


def witness_views(ledger: Ledger, signed: SignedCheckpoint | None) -> list[WitnessView]:
    """Each configured witness, with its kept cosignature on ``signed`` when it verifies."""
    keys = {endpoint.key.key_id: endpoint.key for endpoint in ledger.witnesses}
    check = None
    if signed is not None:
        check = check_cosignatures(
            note_parts(signed.note)[0], ledger.cosignature_store.lines(signed), keys
        )
    views = []
    for endpoint in ledger.witnesses:
        key_id = endpoint.key.key_id
        found = check.valid.get(key_id) if check else None
        views.append(
            WitnessView(
                name=endpoint.key.name,
                url=endpoint.url,
                vkey=endpoint.key.encode(),
                cosigned_at=None
                if found is None
                else datetime.fromtimestamp(found.timestamp, UTC).isoformat(),
                invalid=check.invalid.get(key_id) if check else None,
            )
        )
    return views


def key_views(ledger: Ledger) -> list[KeyView]:
    """The ledger's verifier keys, oldest first, with the windows the key history gives."""
    keys = ledger.verifier_keys()
    with ledger.engine.connect() as conn:
        windows = key_lifecycle(conn, ledger.events_table, keys).windows
    views = []
    for key in keys.values():
        window = windows.get(key.key_id)
        views.append(
            KeyView(
                vkey=key.encode(),
                key_id=key.key_id,
                first=window.first if window else None,
                last=window.last if window else None,
                revoked_from=window.revoked_from if window else None,
            )
        )
    return sorted(views, key=lambda v: (v.first is None, v.first or 0))


# --- one event -------------------------------------------------------------------------------


@dataclass
class EventView:
    line: dict[str, Any]  # audit.matter.timeline's line: time, actor, meaning, signatures
    receipt: dict[str, Any] | None  # None when no checkpoint covers it yet
    unproved: str = ""  # why there is no receipt


def event_at(ledger: Ledger, position: int) -> EventView:
    """The event at ``position`` as ``huiyan audit timeline`` shows it, with its receipt
    against the latest checkpoint. LedgerError when there is no such entry."""
    entry = ledger.entry(position)
    lines = timeline(ledger, [entry.originator_id])
    line = next(found for found in lines if found["position"] == position)
    line["topic"] = entry.topic
    line["key_id"] = entry.key_id
    try:
        return EventView(line, receipt(ledger, position))
    except LedgerError as error:
        return EventView(line, None, str(error))


def receipt(ledger: Ledger, position: int) -> dict[str, Any]:
    """The receipt of the event at ``position`` (LedgerError while no checkpoint covers it):
    the proof is checked against the signed root before it is handed out."""
    return {"format": RECEIPT_FORMAT, **ledger.inclusion_proof(position).as_json()}


# --- checking a receipt ----------------------------------------------------------------------


class ReceiptInvalid(ValueError):
    """A receipt that does not prove what it says; ``code`` names the check that failed (the
    same codes as static/receipt.js), the message says why in English."""

    def __init__(self, code: str, why: str) -> None:
        super().__init__(why)
        self.code = code


@dataclass(frozen=True)
class ReceiptChecked:
    position: int
    tree_size: int
    origin: str
    key_id: str


def check_receipt(data: Any, keys: dict[str, VerifierKey]) -> ReceiptChecked:
    """Check a receipt (its parsed JSON) with the ledger's verifier ``keys``: the checkpoint's
    signature by one of them, then the RFC 9162 inclusion of the leaf under its root."""
    position, leaf, size, path, note = _fields(data)
    try:
        body = note_parts(note)[0]
        checkpoint = parse_body(body)
    except CheckpointError as error:
        raise ReceiptInvalid("checkpoint", f"the checkpoint does not parse: {error}") from None
    if checkpoint.tree_size != size:
        raise ReceiptInvalid(
            "size", f"the checkpoint is of size {checkpoint.tree_size}, the receipt says {size}"
        )
    try:
        signed = parse_note(note, keys)
    except CheckpointError as error:
        raise ReceiptInvalid("signature", f"the checkpoint's signature: {error}") from None
    try:
        verify_inclusion(leaf, position, size, path, checkpoint.root_hash)
    except ProofError as error:
        raise ReceiptInvalid("inclusion", str(error)) from None
    return ReceiptChecked(position, size, checkpoint.origin, signed.key_id)


def _fields(data: Any) -> tuple[int, bytes, int, list[bytes], str]:
    if not isinstance(data, dict):
        raise ReceiptInvalid("shape", "a receipt is a JSON object")
    given = data.get("format", RECEIPT_FORMAT)
    if given != RECEIPT_FORMAT:
        raise ReceiptInvalid("shape", f"the receipt's format is not {RECEIPT_FORMAT}")
    position, size = data.get("position"), data.get("tree_size")
    for name, value in (("position", position), ("tree_size", size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ReceiptInvalid("shape", f"{name} must be a whole number")
    path, note = data.get("path"), data.get("checkpoint")
    if not isinstance(path, list) or len(path) > MAX_PATH:
        raise ReceiptInvalid("shape", "path must be a list of hashes")
    if not isinstance(note, str):
        raise ReceiptInvalid("shape", "checkpoint must be the signed note's text")
    return (
        position,
        _hash(data.get("leaf_hash"), "leaf_hash"),
        size,
        [_hash(node, "path") for node in path],
        note,
    )


def _hash(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise ReceiptInvalid("shape", f"{name} must hold 64 hexadecimal digits")
    try:
        return binascii.unhexlify(value)
    except binascii.Error:
        raise ReceiptInvalid("shape", f"{name} must hold 64 hexadecimal digits") from None


def root_of(signed: SignedCheckpoint) -> str:
    return base64.b64encode(signed.checkpoint.root_hash).decode()
