"""Key rotations are privileged acts, so each one is itself an event in the ledger: which key
retired, which took over, who did it, why and when. The event is the first one the new key
signs, which shows the new key was in the ledger's hands at that moment."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

KEY_HISTORY_NAMESPACE = UUID("6f1c9a52-3d0e-4b8f-9a77-0c2e5d4b1a90")


class KeyHistory(Aggregate):
    """One per ledger origin (derived id)."""

    @staticmethod
    def create_id(origin: str) -> UUID:
        return uuid5(KEY_HISTORY_NAMESPACE, origin)

    @event("Opened")
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.rotations: list[dict[str, object]] = []

    @event("Rotated")
    def rotated(
        self, retired: str | None, active: str, operator: str, reason: str, at: datetime
    ) -> None:
        self.rotations.append(
            {"retired": retired, "active": active, "operator": operator, "reason": reason, "at": at}
        )
