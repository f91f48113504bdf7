"""The contest: its tracks and groups, its calendar, its submission quotas, and the call for
the registration letters. The organiser sets all of it once, from the contest file.

Deadlines are instants at which something *closes*: an action is accepted strictly before
its deadline (``now < deadline``). docs/contest.md explains the 2026 readings of the notice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import (
    CalendarOutOfOrder,
    ContestFieldInvalid,
    DocumentsAlreadyCalled,
    GroupUnknown,
    ModificationClosed,
    RegistrationClosed,
    RoundStarted,
    TrackUnknown,
)
from domain.time import require_aware

CONTEST_NAMESPACE = UUID("5f0c3a7e-2f55-4a8e-9a43-6c1f0f6e2a01")
LANGUAGES: tuple[str, ...] = ("zh", "en")
IDENTITY_PROOF = "identity_proof"
# The letters the organiser calls for before the round starts [附件2 三].
CALLED_DOCUMENTS: tuple[str, ...] = (
    "commitment_letter",
    "ip_compliance_statement",
    "technical_letter_of_intent",
)
DOCUMENT_KINDS: tuple[str, ...] = (IDENTITY_PROOF, *CALLED_DOCUMENTS)


@dataclass(frozen=True)
class Calendar:
    """The organiser's dates. Each one closes something; the order below is checked."""

    registration_deadline: datetime
    modification_deadline: datetime
    preliminary_start: datetime
    preliminary_end: datetime
    final_start: datetime
    final_end: datetime
    review_sla_days: int
    appeal_window_days: int

    # (earlier, later, may they be equal?)
    _ORDER = (
        ("registration_deadline", "modification_deadline", True),
        ("modification_deadline", "preliminary_start", False),
        ("preliminary_start", "preliminary_end", False),
        ("preliminary_end", "final_start", True),
        ("final_start", "final_end", False),
    )

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, datetime):
                require_aware(value, f"calendar.{name}")
        for earlier, later, may_equal in self._ORDER:
            first, second = getattr(self, earlier), getattr(self, later)
            if first > second or (first == second and not may_equal):
                raise CalendarOutOfOrder(earlier=earlier, later=later)
        for name in ("review_sla_days", "appeal_window_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ContestFieldInvalid(field=f"calendar.{name}", value=value)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Calendar:
        return cls(**record)

    @property
    def review_sla(self) -> timedelta:
        return timedelta(days=self.review_sla_days)

    def require_registration_open(self, now: datetime) -> None:
        if require_aware(now, "now") >= self.registration_deadline:
            raise RegistrationClosed(deadline=self.registration_deadline)

    def require_modification_open(self, now: datetime) -> None:
        if require_aware(now, "now") >= self.modification_deadline:
            raise ModificationClosed(deadline=self.modification_deadline)

    def round_started(self, now: datetime) -> bool:
        return require_aware(now, "now") >= self.preliminary_start

    def require_before_round(self, now: datetime) -> None:
        if self.round_started(now):
            raise RoundStarted(started=self.preliminary_start)


@dataclass(frozen=True)
class Quota:
    """Submissions per team per track: per contest day and in total."""

    per_day: int
    total: int

    def __post_init__(self) -> None:
        for name in ("per_day", "total"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ContestFieldInvalid(field=f"quota.{name}", value=value)
        if self.total < self.per_day:
            raise ContestFieldInvalid(field="quota.total", value=f"{self.total} < per_day")


class Contest(ContestAggregate):
    """One edition of the contest; its id is derived from its slug so it is created once."""

    @staticmethod
    def create_id(slug: str) -> UUID:
        return uuid5(CONTEST_NAMESPACE, slug)

    @classmethod
    def create(
        cls,
        *,
        slug: str,
        name: dict[str, str],
        groups: list[dict[str, Any]],
        tracks: list[dict[str, Any]],
        calendar: Calendar,
        quota: Quota,
        by: UUID,
        now: datetime,
    ) -> Contest:
        require_aware(now, "now")
        if not isinstance(slug, str) or not slug.strip():
            raise ContestFieldInvalid(field="slug", value=repr(slug))
        _check_names("name", name)
        group_ids = _check_groups(groups)
        _check_tracks(tracks, group_ids)
        return cls(
            slug=slug.strip(),
            name=dict(name),
            groups=[dict(group) for group in groups],
            tracks=[dict(track) for track in tracks],
            calendar=calendar.to_record(),
            quota=asdict(quota),
            by=by,
            at=now,
        )

    @event("Created")
    def __init__(
        self,
        slug: str,
        name: dict[str, str],
        groups: list[dict[str, Any]],
        tracks: list[dict[str, Any]],
        calendar: dict[str, Any],
        quota: dict[str, int],
        by: UUID,
        at: datetime,
    ) -> None:
        self.slug, self.name = slug, name
        self.groups, self.tracks = groups, tracks
        self.calendar_record, self.quota_record = calendar, quota
        self.created_by, self.created_at = by, at
        self.documents_called_at: datetime | None = None

    @property
    def calendar(self) -> Calendar:
        return Calendar.from_record(self.calendar_record)

    @property
    def quota(self) -> Quota:
        return Quota(**self.quota_record)

    def track(self, track: int) -> dict[str, Any]:
        for record in self.tracks:
            if record["id"] == track:
                return record
        raise TrackUnknown(track=track)

    def require_group(self, track: int, group: str) -> None:
        if group not in self.track(track)["groups"]:
            raise GroupUnknown(track=track, group=group)

    def call_for_documents(self, *, by: UUID, now: datetime) -> None:
        """The organiser asks every team for the three letters [附件2 三]."""
        if self.documents_called_at is not None:
            raise DocumentsAlreadyCalled(called_at=self.documents_called_at)
        self.calendar.require_before_round(now)
        self._documents_called(kinds=list(CALLED_DOCUMENTS), by=by, at=now)

    @event("DocumentsCalled")
    def _documents_called(self, kinds: list[str], by: UUID, at: datetime) -> None:
        self.documents_called_at = at


def _check_names(field: str, names: Any) -> None:
    if not isinstance(names, dict):
        raise ContestFieldInvalid(field=field, value="needs zh and en")
    for language in LANGUAGES:
        text = names.get(language)
        if not isinstance(text, str) or not text.strip():
            raise ContestFieldInvalid(field=f"{field}.{language}", value=repr(text))


def _check_groups(groups: Any) -> set[str]:
    if not isinstance(groups, list) or not groups:
        raise ContestFieldInvalid(field="groups", value="needs at least one group")
    seen: set[str] = set()
    for index, group in enumerate(groups):
        group_id = group.get("id") if isinstance(group, dict) else None
        if not isinstance(group_id, str) or not group_id or group_id in seen:
            raise ContestFieldInvalid(field=f"groups[{index}].id", value=repr(group_id))
        _check_names(f"groups[{index}].name", group.get("name"))
        seen.add(group_id)
    return seen


def _check_tracks(tracks: Any, group_ids: set[str]) -> None:
    if not isinstance(tracks, list) or not tracks:
        raise ContestFieldInvalid(field="tracks", value="needs at least one track")
    seen: set[int] = set()
    for index, track in enumerate(tracks):
        if not isinstance(track, dict):
            raise ContestFieldInvalid(field=f"tracks[{index}]", value="not a mapping")
        track_id = track.get("id")
        if isinstance(track_id, bool) or not isinstance(track_id, int) or track_id in seen:
            raise ContestFieldInvalid(field=f"tracks[{index}].id", value=repr(track_id))
        seen.add(track_id)
        _check_names(f"tracks[{index}].name", track.get("name"))
        roles = track.get("image_roles")
        if not _distinct_texts(roles):
            raise ContestFieldInvalid(field=f"tracks[{index}].image_roles", value=repr(roles))
        groups = track.get("groups")
        if not _distinct_texts(groups) or not set(groups) <= group_ids:
            raise ContestFieldInvalid(field=f"tracks[{index}].groups", value=repr(groups))


def _distinct_texts(values: Any) -> bool:
    return (
        isinstance(values, list)
        and bool(values)
        and all(isinstance(value, str) and value for value in values)
        and len(set(values)) == len(values)
    )
