"""The organisers' announcements (公告): versioned texts in Chinese and English, each act
signed by the organiser who made it.

An announcement is published (version 1), revised (a new version; every earlier one stays in
the ledger and on its page) and withdrawn (with a reason; it leaves the list of current
announcements, its page and history stay). The rules are checked in the commands, never in the
``@event`` bodies (STYLE.md 1), so the history replays whatever the time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.contest import LANGUAGES
from domain.errors import (
    AnnouncementTextMissing,
    AnnouncementUnchanged,
    AnnouncementWithdrawn,
    ReasonRequired,
)
from domain.time import require_aware


def check_text(title: dict[str, str], body: dict[str, str]) -> tuple[dict[str, str], ...]:
    """Both languages of both parts, stripped; refused when one is blank."""
    checked: list[dict[str, str]] = []
    for part, texts in (("title", title), ("body", body)):
        clean = {}
        for language in LANGUAGES:
            text = texts.get(language) if isinstance(texts, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise AnnouncementTextMissing(field=f"{part}.{language}")
            clean[language] = text.strip()
        checked.append(clean)
    return tuple(checked)


class Announcement(ContestAggregate):
    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.versions: list[dict[str, Any]] = []
        self.withdrawn: dict[str, Any] | None = None

    class Published(SignedDecision):
        """A version: the first publication or a revision (``version`` > 1)."""

        version: int
        title: dict[str, str]
        body: dict[str, str]
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    class Withdrawn(SignedDecision):
        reason: str
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    @property
    def current(self) -> dict[str, Any]:
        return self.versions[-1]

    def publish(
        self,
        *,
        title: dict[str, str],
        body: dict[str, str],
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> int:
        """The first version, or a revision: a new version of a standing announcement."""
        if self.withdrawn is not None:
            raise AnnouncementWithdrawn(at=self.withdrawn["at"])
        title, body = check_text(title, body)
        if self.versions and (self.current["title"], self.current["body"]) == (title, body):
            raise AnnouncementUnchanged(version=self.current["version"])
        version = len(self.versions) + 1
        at = require_aware(now, "now")
        self._published(version=version, title=title, body=body, by=by, at=at,
                        personal_signature=personal_signature)  # fmt: skip
        return version

    @event(Published)
    def _published(
        self,
        version: int,
        title: dict[str, str],
        body: dict[str, str],
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.versions.append({"version": version, "title": title, "body": body, "by": by, "at": at})

    def withdraw(
        self,
        *,
        reason: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        if self.withdrawn is not None:
            raise AnnouncementWithdrawn(at=self.withdrawn["at"])
        if not reason.strip():
            raise ReasonRequired()
        self._withdrawn(reason=reason.strip(), by=by, at=require_aware(now, "now"),
                        personal_signature=personal_signature)  # fmt: skip

    @event(Withdrawn)
    def _withdrawn(
        self, reason: str, by: UUID, at: datetime, personal_signature: dict[str, Any] | None
    ) -> None:
        self.withdrawn = {"reason": reason, "by": by, "at": at}
