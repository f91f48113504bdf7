"""The base of every contest aggregate: versioned events, so old histories keep replaying.

Every event class an aggregate declares (by ``@event``) inherits ``class_version = 1``. When an
event's attributes change, declare that event class explicitly with ``class_version = 2`` and a
static ``upcast_v1_v2(state)``; the golden fixture under tests/domain/golden/ proves it.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate


class ContestAggregate(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1

    class Created(Event, Aggregate.Created):
        class_version = 1


class SignedDecision(ContestAggregate.Event):
    """A decision that carries its maker's personal signature (domain/signatures.py). Events
    recorded before personal signatures existed read as unsigned."""

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["personal_signature"] = None
