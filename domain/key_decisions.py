"""The people's decisions about the ledger's own keys: who rotated or revoked which key, why,
under their personal signature.

The ledger records the act itself (its key history: the handover signed by both keys, or the
revocation); this aggregate records the decision behind it with its maker's signature
(meaning ``rotated``, or ``declared`` for a key declared compromised), in the contest's history
where the arbitrators and auditors read every other decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import ReasonRequired
from domain.time import require_aware

KEY_DECISIONS_NAMESPACE = UUID("8f3b5c27-1e9a-4d60-b7c2-4a6e0d9f1b08")


class KeyDecisions(ContestAggregate):
    """One per ledger stream (derived from its origin)."""

    @staticmethod
    def create_id(origin: str) -> UUID:
        return uuid5(KEY_DECISIONS_NAMESPACE, origin)

    @event("Opened")
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.decisions: list[dict[str, Any]] = []

    def rotated(
        self,
        *,
        retired: str,
        successor: str,
        reason: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        if not reason.strip():
            raise ReasonRequired()
        self._rotated(
            retired=retired,
            successor=successor,
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event("Rotated")
    def _rotated(
        self,
        retired: str,
        successor: str,
        reason: str,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.decisions.append({"decision": "rotated", "key": retired, "by": by, "at": at})

    def revoked(
        self,
        *,
        key_id: str,
        from_position: int,
        reason: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        if not reason.strip():
            raise ReasonRequired()
        self._revoked(
            key_id=key_id,
            from_position=from_position,
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event("Revoked")
    def _revoked(
        self,
        key_id: str,
        from_position: int,
        reason: str,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.decisions.append({"decision": "revoked", "key": key_id, "by": by, "at": at})
