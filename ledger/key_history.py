"""The life of the ledger's signing keys, recorded in the ledger itself.

Changing the key is a handover: the outgoing key signs the incoming key's id and public key
(``handover_message``), and the event that records it is the first entry the incoming key
signs. So the event carries both keys' signatures: a thief of a retired key cannot forge or
rewrite a handover (the row needs the new key), and a new key cannot appear from nowhere (the
handover needs the old one). A compromised key is revoked from a position on by an event the
active key signs. Both kinds of event are rare, small and read by verifiers straight from the
stored JSON (``KeyEvent.parse``): a verifier never imports a module a database row names.

``KeyLifecycle`` turns those events into each key's window of positions; an entry signed
outside its key's window is a ``retired key`` problem, one signed by a revoked key from the
revocation's position on a ``revoked key`` problem.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.keys import LedgerKeyError, VerifierKey
from ledger.report import BAD_HANDOVER, RETIRED_KEY, REVOKED_KEY, Problem

KEY_HISTORY_NAMESPACE = UUID("6f1c9a52-3d0e-4b8f-9a77-0c2e5d4b1a90")
HANDOVER_TOPIC = "ledger.key_history:KeyHistory.HandedOver"
REVOKED_TOPIC = "ledger.key_history:KeyHistory.Revoked"
KEY_EVENT_TOPICS = frozenset((HANDOVER_TOPIC, REVOKED_TOPIC))
HANDOVER_PREFIX = b"huiyan-ledger-handover/v1\n"


def handover_message(retired: VerifierKey, successor_key: str) -> bytes:
    """What the outgoing key signs: its own name and id, and the successor's vkey line."""
    return HANDOVER_PREFIX + f"{retired.name}\n{retired.key_id}\n{successor_key}\n".encode()


class KeyHistory(Aggregate):
    """One per ledger origin (derived id)."""

    @staticmethod
    def create_id(origin: str) -> UUID:
        return uuid5(KEY_HISTORY_NAMESPACE, origin)

    @event("Opened")
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.handovers: list[dict[str, object]] = []
        self.revocations: list[dict[str, object]] = []

    @event("HandedOver")
    def handed_over(
        self,
        retired: str,
        successor: str,
        successor_key: str,
        handover: str,
        operator: str,
        reason: str,
        at: datetime,
    ) -> None:
        """``handover`` is base64 of the retired key's signature over handover_message."""
        self.handovers.append(
            {"retired": retired, "successor": successor, "operator": operator, "reason": reason}
        )

    @event("Revoked")
    def revoked(
        self, key_id: str, from_position: int, operator: str, reason: str, at: datetime
    ) -> None:
        self.revocations.append(
            {"key_id": key_id, "from_position": from_position, "operator": operator}
        )


@dataclass(frozen=True)
class KeyEvent:
    """A handover or revocation as a verifier reads it from a validly signed row."""

    position: int
    signer: str
    topic: str
    fields: dict[str, object]

    @classmethod
    def parse(cls, position: int, signer: str, topic: str, state: bytes) -> KeyEvent | None:
        """None when the state is not the JSON object these events are stored as."""
        try:
            fields = json.loads(state)
        except (ValueError, UnicodeDecodeError):
            return None
        return cls(position, signer, topic, fields) if isinstance(fields, dict) else None

    def text(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""


@dataclass
class KeyWindow:
    """Positions ``first`` .. ``last`` (None: still active) are this key's to sign."""

    first: int
    last: int | None = None
    revoked_from: int | None = None


@dataclass
class KeyLifecycle:
    windows: dict[str, KeyWindow] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def derive(
        cls, first_key: str | None, events: list[KeyEvent], keys: dict[str, VerifierKey]
    ) -> KeyLifecycle:
        """Each key's window, from the key of the first entry and the key events in order."""
        lifecycle = cls()
        active = first_key
        if first_key is not None:
            lifecycle.windows[first_key] = KeyWindow(0)
        for key_event in sorted(events, key=lambda e: e.position):
            if key_event.topic == HANDOVER_TOPIC:
                active = lifecycle._hand_over(key_event, active, keys)
            else:
                lifecycle._revoke(key_event)
        return lifecycle

    def _hand_over(
        self, handover: KeyEvent, active: str | None, keys: dict[str, VerifierKey]
    ) -> str:
        position, retired, successor = (
            handover.position,
            handover.text("retired"),
            handover.text("successor"),
        )
        fault = _handover_fault(handover, active, keys)
        if fault:
            self.problems.append(Problem(position, BAD_HANDOVER, fault))
        # Windows follow the handover even when it is faulty, so that one bad event gives one
        # problem, not one for every entry after it.
        if active in self.windows and self.windows[active].last is None:
            self.windows[active].last = position - 1
        if retired in self.windows and self.windows[retired].last is None:
            self.windows[retired].last = position - 1
        self.windows[successor] = KeyWindow(position)
        return successor

    def _revoke(self, revocation: KeyEvent) -> None:
        key_id, start = revocation.text("key_id"), revocation.fields.get("from_position")
        if key_id in self.windows and isinstance(start, int) and start >= 0:
            window = self.windows[key_id]
            window.revoked_from = min(start, window.revoked_from or start)

    def as_plain(self) -> dict[str, tuple[int, int | None, int | None]]:
        """The windows as plain tuples, for worker processes."""
        return {k: (w.first, w.last, w.revoked_from) for k, w in self.windows.items()}


def window_fault(
    windows: dict[str, tuple[int, int | None, int | None]], key_id: str, position: int
) -> tuple[str, str] | None:
    """(kind, detail) when ``key_id`` may not sign ``position``; None when it may."""
    window = windows.get(key_id)
    if window is None:
        return RETIRED_KEY, f"key {key_id} was never handed the ledger"
    first, last, revoked_from = window
    if revoked_from is not None and position >= revoked_from:
        return REVOKED_KEY, f"key {key_id} is revoked from position {revoked_from}"
    if position < first or (last is not None and position > last):
        span = f"{first}..{'' if last is None else last}"
        return RETIRED_KEY, f"key {key_id} signs positions {span} only"
    return None


def _handover_fault(
    handover: KeyEvent, active: str | None, keys: dict[str, VerifierKey]
) -> str | None:
    retired, successor = handover.text("retired"), handover.text("successor")
    if retired != active:
        return f"hands over from key {retired or '?'}, but the active key was {active}"
    if handover.signer != successor:
        return f"recorded by key {handover.signer}, not by the incoming key {successor}"
    try:
        incoming = VerifierKey.decode(handover.text("successor_key"))
    except (LedgerKeyError, ValueError):
        return "the incoming key's public key is not a verifier key line"
    if incoming.key_id != successor:
        return f"the incoming public key has id {incoming.key_id}, not {successor}"
    outgoing = keys.get(retired)
    if outgoing is None:
        return f"the outgoing key {retired} is not a trusted key"
    try:
        signature = base64.b64decode(handover.text("handover"), validate=True)
    except ValueError:
        signature = b""
    if not outgoing.verify(signature, handover_message(outgoing, incoming.encode())):
        return f"the outgoing key {retired} did not sign this handover"
    return None
