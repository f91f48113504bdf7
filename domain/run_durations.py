"""How long the runs of submissions took, as the ledger recorded them: the read model the
monitoring's duration histograms are made of (docs/operations.md, "Monitoring").

Pure: the projection turns each event into a call on its view and touches no database; the SQL
table is services/run_durations.py. Two durations per submission, both from signed events, so
they survive any restart of a worker and no team can shorten them:

- inference: the run's wall time as the sandbox measured it (the sum of the ``case_seconds`` of
  ``InferenceCompleted``, which the platform shares out evenly; a model's own timings are never
  read);
- scoring: from the recorded end of inference to the recorded score (``ScoreComputed``), that
  is the wait in the scoring queue and the scoring itself.

Derived and disposable like every read model: nothing decides by it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.submissions import Submission


class DurationsView(TrackingRecorder, ABC):
    @abstractmethod
    def submitted(self, submission_id: UUID, track: int, tracking: Tracking) -> None: ...

    @abstractmethod
    def inferred(
        self, submission_id: UUID, seconds: float, at: datetime, tracking: Tracking
    ) -> None:
        """The inference took ``seconds`` in the sandbox and was recorded ``at``."""

    @abstractmethod
    def scored(self, submission_id: UUID, at: datetime, tracking: Tracking) -> None:
        """The score was recorded ``at``: the scoring took from the inference's ``at`` to
        this one."""

    @abstractmethod
    def skip(self, tracking: Tracking) -> None: ...


class RunDurations(Projection[DurationsView]):
    name = "run_durations"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Submission.Submitted,
            Submission.InferenceCompleted,
            Submission.ScoreComputed,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _submitted(self, domain_event: Submission.Submitted, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.submitted(event.originator_id, event.track, tracking)

    @process_event.register
    def _inferred(self, domain_event: Submission.InferenceCompleted, tracking: Tracking) -> None:
        event: Any = domain_event
        seconds = float(sum(event.case_seconds.values()))
        self.view.inferred(event.originator_id, seconds, event.at, tracking)

    @process_event.register
    def _scored(self, domain_event: Submission.ScoreComputed, tracking: Tracking) -> None:
        event: Any = domain_event
        self.view.scored(event.originator_id, event.at, tracking)
