"""What every contest service needs to read the shared ledger: load an aggregate as the class
it must be, open a per-contest aggregate on first use, list aggregates by an event's topic.

All applications write one events table (docs/architecture.md), so a service reads the Team,
Contest and RulesBook aggregates that the registration desk recorded through its own
repository: an aggregate is found by its id, whichever application saved it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.accounts import Account, Actor
from domain.contest import Contest
from domain.errors import (
    AccountNotFound,
    ConcurrentChange,
    ContestNotFound,
    OwnKeyRequired,
    SignatureRequired,
    TeamNotFound,
)
from domain.rules import RulesBook
from domain.signatures import Signer, SigningAccount, signed_decision
from domain.teams import Team

A = TypeVar("A", bound=Aggregate)
_PAGE = 500


class ContestDesk(Application):
    def contest(self, contest_id: UUID) -> Contest:
        return self._get(Contest, contest_id, ContestNotFound(contest=contest_id))

    def team(self, team_id: UUID) -> Team:
        return self._get(Team, team_id, TeamNotFound(team=team_id))

    def rules(self, contest_id: UUID) -> RulesBook:
        return self._get_or_open(RulesBook, contest_id)

    def account(self, account_id: UUID) -> Account:
        return self._get(Account, account_id, AccountNotFound())

    def signing_account(self, actor: Actor) -> SigningAccount:
        account = self.account(actor.account_id)
        if account.public_key is None or account.key_id is None:
            raise SignatureRequired(meaning="any")
        if not account.own_key:
            raise OwnKeyRequired()
        return SigningAccount(
            account_id=account.id,
            key_id=account.key_id,
            public_key=account.public_key,
            name=account.person,
        )

    def _signed(
        self,
        aggregate: A,
        decide: Callable[[A, dict[str, Any] | None], None],
        *,
        meaning: str,
        actor: Actor,
        signer: Signer | None,
        now: datetime,
    ) -> None:
        """Plays a decision with the acting person's signature over its event; without a
        signer (or with one that does not verify) nothing is decided."""
        if signer is None:
            raise SignatureRequired(meaning=meaning)
        signed_decision(
            aggregate,
            decide,
            meaning=meaning,
            account=self.signing_account(actor),
            signer=signer,
            now=now,
        )

    def _exists(self, ident: UUID) -> bool:
        try:
            self.repository.get(ident)
        except AggregateNotFoundError:
            return False
        return True

    def _team_for(self, team_id: UUID, actor: Actor, action: str) -> tuple[Team, Contest]:
        """The team and its contest, for an organiser or that team's leader."""
        actor.require_for_team(team_id, action=action)
        team = self.team(team_id)
        return team, self.contest(team.contest_id)

    def _save(self, *aggregates: Aggregate) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise ConcurrentChange() from None

    def _get(self, cls: type[A], ident: UUID, missing: Exception) -> A:
        try:
            aggregate = self.repository.get(ident)
        except AggregateNotFoundError:
            raise missing from None
        if not isinstance(aggregate, cls):
            raise missing
        return aggregate

    def _get_or_open(self, cls: type[A], contest_id: UUID) -> A:
        """A per-contest aggregate with a derived id; a new one is saved with its first
        change, so two first changes race for version 1 and one of them loses."""
        try:
            return self.repository.get(cls.create_id(contest_id))  # type: ignore[attr-defined]
        except AggregateNotFoundError:
            return cls(contest_id=contest_id)  # type: ignore[call-arg]

    def _created(self, event_class: type) -> Iterator[UUID]:
        """Ids of the aggregates that recorded this event, in ledger order (a query, not a
        rule)."""
        topic, start = get_topic(event_class), 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=_PAGE, topics=[topic])
            for notification in page:
                yield notification.originator_id
            if len(page) < _PAGE:
                return
            start = page[-1].id + 1
