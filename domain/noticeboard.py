"""The noticeboard desk: the organisers publish, revise and withdraw announcements
(domain/announcements.py), each act under their personal signature, as the rules are published
(``Registration.publish_rules``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.accounts import Actor, Role
from domain.announcements import Announcement
from domain.desk import ContestDesk
from domain.errors import AnnouncementNotFound
from domain.signatures import Signer


class Noticeboard(ContestDesk):
    def announcement(self, announcement_id: UUID) -> Announcement:
        return self._get(
            Announcement, announcement_id, AnnouncementNotFound(announcement=announcement_id)
        )

    def announcements(self, contest_id: UUID | None = None) -> list[Announcement]:
        """Every announcement (of the contest), in the order they were first published."""
        found = (self.announcement(ident) for ident in self._created(Announcement.Opened))
        return [a for a in found if a.versions and contest_id in (None, a.contest_id)]

    def publish_announcement(
        self,
        contest_id: UUID,
        *,
        title: dict[str, str],
        body: dict[str, str],
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> UUID:
        """A new announcement, signed ``published``; its id."""
        actor.require(Role.ORGANISER, action="publish an announcement")
        announcement = Announcement(contest_id=self.contest(contest_id).id)
        self._version(announcement, title, body, actor, now, signer)
        return announcement.id

    def revise_announcement(
        self,
        announcement_id: UUID,
        *,
        title: dict[str, str],
        body: dict[str, str],
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> int:
        """A new version, signed ``published``; its number. Earlier versions stay."""
        actor.require(Role.ORGANISER, action="revise an announcement")
        announcement = self.announcement(announcement_id)
        return self._version(announcement, title, body, actor, now, signer)

    def withdraw_announcement(
        self,
        announcement_id: UUID,
        *,
        reason: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        """Taken off the list of current announcements, signed ``declared`` (the organiser
        declares it no longer stands); its page and versions stay."""
        actor.require(Role.ORGANISER, action="withdraw an announcement")
        announcement = self.announcement(announcement_id)

        def withdraw(target: Announcement, signature: dict[str, Any] | None) -> None:
            target.withdraw(reason=reason, by=actor.account_id, now=now,
                            personal_signature=signature)  # fmt: skip

        self._signed(announcement, withdraw, meaning="declared", actor=actor, signer=signer,
                     now=now)  # fmt: skip
        self._save(announcement)

    def _version(
        self,
        announcement: Announcement,
        title: dict[str, str],
        body: dict[str, str],
        actor: Actor,
        now: datetime,
        signer: Signer | None,
    ) -> int:
        def publish(target: Announcement, signature: dict[str, Any] | None) -> None:
            target.publish(title=title, body=body, by=actor.account_id, now=now,
                           personal_signature=signature)  # fmt: skip

        self._signed(announcement, publish, meaning="published", actor=actor, signer=signer,
                     now=now)  # fmt: skip
        self._save(announcement)
        return announcement.current["version"]
