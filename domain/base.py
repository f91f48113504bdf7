"""The base of every contest aggregate: versioned events, so old histories keep replaying.

Every event class an aggregate declares (by ``@event``) inherits ``class_version = 1``. When an
event's attributes change, declare that event class explicitly with ``class_version = 2`` and a
static ``upcast_v1_v2(state)``; the golden fixture under tests/domain/golden/ proves it.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate


class ContestAggregate(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1

    class Created(Event, Aggregate.Created):
        class_version = 1
