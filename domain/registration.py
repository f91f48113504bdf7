"""The registration desk: the service layer that loads aggregates, hands them the time and the
facts they need, and saves what they decide in one transaction.

Which store it writes to is configuration (``PERSISTENCE_MODULE``), never an import. Each
command names its actor; the role check happens here, the contest rules in the aggregates.
Personal content never reaches this layer: callers seal it first and pass hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.accounts import Account, Actor, BootstrapClaim, Role
from domain.blacklist import Blacklist
from domain.contest import IDENTITY_PROOF, Calendar, Contest, Quota
from domain.desk import ContestDesk
from domain.errors import (
    AccountExists,
    AccountNotFound,
    ConcurrentChange,
    ContestAlreadyExists,
    ContestNotFound,
    NotPermitted,
    PersonInAnotherTeam,
    TeamNameTaken,
)
from domain.teams import Member, PersonClaim, Team, TeamNameClaim

A = TypeVar("A", bound=Aggregate)
_PAGE = 500


class Registration(ContestDesk):
    # --- reading ---------------------------------------------------------------------------

    def contest_by_slug(self, slug: str) -> Contest:
        return self._get(Contest, Contest.create_id(slug), ContestNotFound(contest=slug))

    def contests(self) -> list[Contest]:
        return [self.contest(ident) for ident in self._created(Contest.Created)]

    def teams(self, contest_id: UUID) -> list[Team]:
        teams = (self.team(ident) for ident in self._created(Team.Registered))
        return [team for team in teams if team.contest_id == contest_id]

    def account(self, account_id: UUID) -> Account:
        return self._get(Account, account_id, AccountNotFound())

    def account_by_login(self, login_key: str) -> Account:
        return self.account(Account.create_id(login_key))

    def blacklist(self, contest_id: UUID) -> Blacklist:
        return self._get_or_open(Blacklist, contest_id)

    # --- accounts ----------------------------------------------------------------------------

    def open_account(
        self,
        *,
        login_key: str,
        role: Role,
        credential: str,
        actor: Actor | None,
        now: datetime,
        team_id: UUID | None = None,
        leader: bool = False,
    ) -> UUID:
        """The first account may be opened by the operator alone (bootstrap); every later
        one by an organiser."""
        if actor is None:
            if self._exists(BootstrapClaim.create_id()):
                raise NotPermitted(role="anonymous", action="open accounts")
        else:
            actor.require(Role.ORGANISER, action="open accounts")
        if team_id is not None:
            self.team(team_id)
        if self._exists(Account.create_id(login_key)):
            raise AccountExists()
        account = Account.open(
            login_key=login_key,
            role=role,
            credential=credential,
            team_id=team_id,
            leader=leader,
            by=actor.account_id if actor else None,
            now=now,
        )
        claims = [BootstrapClaim(account.id)] if actor is None else []
        try:
            self._save(account, *claims, conflict=AccountExists())
        except AccountExists:
            if claims and self._exists(BootstrapClaim.create_id()):
                raise NotPermitted(role="anonymous", action="open accounts") from None
            raise
        return account.id

    # --- contest and rules -----------------------------------------------------------------

    def create_contest(
        self,
        *,
        slug: str,
        name: dict[str, str],
        groups: list[dict[str, Any]],
        tracks: list[dict[str, Any]],
        calendar: Calendar,
        quota: Quota,
        actor: Actor,
        now: datetime,
    ) -> UUID:
        actor.require(Role.ORGANISER, action="create a contest")
        if self._exists(Contest.create_id(slug)):
            raise ContestAlreadyExists(contest=slug)
        contest = Contest.create(
            slug=slug,
            name=name,
            groups=groups,
            tracks=tracks,
            calendar=calendar,
            quota=quota,
            by=actor.account_id,
            now=now,
        )
        self._save(contest, conflict=ContestAlreadyExists(contest=slug))
        return contest.id

    def call_for_documents(self, contest_id: UUID, *, actor: Actor, now: datetime) -> None:
        actor.require(Role.ORGANISER, action="call for the registration documents")
        contest = self.contest(contest_id)
        contest.call_for_documents(by=actor.account_id, now=now)
        self._save(contest)

    def publish_rules(
        self, contest_id: UUID, *, sha256: str, blob: str, actor: Actor, now: datetime
    ) -> int:
        actor.require(Role.ORGANISER, action="publish the scoring rules")
        contest = self.contest(contest_id)
        book = self.rules(contest_id)
        version = book.publish(
            sha256=sha256, blob=blob, calendar=contest.calendar, by=actor.account_id, now=now
        )
        self._save(book)
        return version

    # --- teams -----------------------------------------------------------------------------

    def register_team(
        self,
        contest_id: UUID,
        *,
        team_id: UUID,
        name: str,
        language: str | None,
        members: list[Member],
        actor: Actor,
        now: datetime,
        tracks: tuple[tuple[int, str], ...] = (),
        identity_proof: dict[str, Any] | None = None,
    ) -> UUID:
        """Registers the team with its tracks and identity proof in one transaction, so that a
        refused track leaves no half-registered team behind. ``identity_proof`` holds the
        ``ciphertext``, ``size`` and ``pages`` of the sealed merged PDF."""
        actor.require(Role.ORGANISER, action="register a team")
        contest = self.contest(contest_id)
        team = Team.register(
            team_id=team_id,
            contest=contest,
            name=name,
            language=language,
            members=members,
            by=actor.account_id,
            now=now,
        )
        for track, group in tracks:
            team.enter_track(track, group, contest=contest, by=actor.account_id, now=now)
        if identity_proof is not None:
            team.attach_document(
                IDENTITY_PROOF, **identity_proof, contest=contest, by=actor.account_id, now=now
            )
        claims = self._claims(team, team.identity_keys)
        name_claim = self._name_claim(team)
        self._screen(team, actor, now)
        self._save(team, name_claim, *claims, racing_for=team, new_team=True)
        return team.id

    def change_members(
        self, team_id: UUID, members: list[Member], *, actor: Actor, now: datetime
    ) -> None:
        team, contest = self._team_for(team_id, actor, "change the members")
        joining, leaving = team.change_members(
            members, contest=contest, by=actor.account_id, now=now
        )
        claims = self._claims(team, joining)
        for identity_key in leaving:
            claim = self.repository.get(PersonClaim.create_id(team.contest_id, identity_key))
            claim.release()
            claims.append(claim)
        self._screen(team, actor, now)
        self._save(team, *claims, racing_for=team)

    def choose_language(self, team_id: UUID, language: str, *, actor: Actor, now: datetime) -> None:
        team, contest = self._team_for(team_id, actor, "choose the language")
        team.choose_language(language, contest=contest, by=actor.account_id, now=now)
        self._save(team)

    def attach_document(
        self,
        team_id: UUID,
        kind: str,
        *,
        ciphertext: str,
        size: int,
        pages: int,
        actor: Actor,
        now: datetime,
    ) -> None:
        team, contest = self._team_for(team_id, actor, "upload documents")
        team.attach_document(
            kind,
            ciphertext=ciphertext,
            size=size,
            pages=pages,
            contest=contest,
            by=actor.account_id,
            now=now,
        )
        self._save(team)

    def enter_track(
        self, team_id: UUID, track: int, group: str, *, actor: Actor, now: datetime
    ) -> None:
        team, contest = self._team_for(team_id, actor, "enter a track")
        team.enter_track(track, group, contest=contest, by=actor.account_id, now=now)
        self._save(team)

    def leave_track(self, team_id: UUID, track: int, *, actor: Actor, now: datetime) -> None:
        team, contest = self._team_for(team_id, actor, "leave a track")
        team.leave_track(track, contest=contest, by=actor.account_id, now=now)
        self._save(team)

    def submit(self, team_id: UUID, *, actor: Actor, now: datetime) -> None:
        """Screens first: a team on a blacklist is disqualified, not put in the review queue."""
        team, contest = self._team_for(team_id, actor, "submit for review")
        if self._screen(team, actor, now):
            self._save(team)
        team.submit(contest=contest, by=actor.account_id, now=now)
        self._save(team)

    def withdraw(self, team_id: UUID, *, actor: Actor, now: datetime) -> None:
        team, contest = self._team_for(team_id, actor, "withdraw the registration")
        team.withdraw(contest=contest, by=actor.account_id, now=now)
        self._save(team)

    def approve(self, team_id: UUID, *, actor: Actor, now: datetime, reason: str = "") -> None:
        actor.require(Role.ORGANISER, action="review registrations")
        team = self.team(team_id)
        team.approve(by=actor.account_id, now=now, reason=reason)
        self._save(team)

    def reject(self, team_id: UUID, *, reason: str, actor: Actor, now: datetime) -> None:
        actor.require(Role.ORGANISER, action="review registrations")
        team = self.team(team_id)
        team.reject(reason=reason, by=actor.account_id, now=now)
        self._save(team)

    # --- blacklists ------------------------------------------------------------------------

    def import_blacklist(
        self,
        contest_id: UUID,
        *,
        source: str,
        sha256: str,
        listed_on: str,
        entries: list[dict[str, str | None]],
        actor: Actor,
        now: datetime,
    ) -> tuple[int, list[UUID]]:
        """Imports a list and screens every team of the contest against all lists; returns
        the list's number and the teams it disqualified."""
        actor.require(Role.ORGANISER, action="import credit blacklists")
        self.contest(contest_id)
        blacklist = self.blacklist(contest_id)
        number = blacklist.import_list(
            source=source,
            sha256=sha256,
            listed_on=listed_on,
            entries=entries,
            by=actor.account_id,
            now=now,
        )
        self._save(blacklist)
        disqualified = []
        for team in self.teams(contest_id):
            if self._screen(team, actor, now, blacklist=blacklist):
                self._save(team)
                disqualified.append(team.id)
        return number, disqualified

    def clear_match(
        self, team_id: UUID, match: str, *, reason: str, actor: Actor, now: datetime
    ) -> None:
        actor.require(Role.ORGANISER, action="clear a blacklist match")
        team = self.team(team_id)
        team.clear_match(match, reason=reason, by=actor.account_id, now=now)
        self._save(team)

    # --- helpers ---------------------------------------------------------------------------

    def _claims(self, team: Team, identity_keys: list[str]) -> list[PersonClaim]:
        claims = []
        for position, member in enumerate(team.members, start=1):
            if member["identity_key"] not in identity_keys:
                continue
            claim_id = PersonClaim.create_id(team.contest_id, member["identity_key"])
            try:
                claim = self.repository.get(claim_id)
            except AggregateNotFoundError:
                claims.append(PersonClaim(team.contest_id, member["identity_key"], team.id))
                continue
            if claim.team_id not in (None, team.id):
                raise PersonInAnotherTeam(position=position)
            claim.take(team.id)
            claims.append(claim)
        return claims

    def _name_claim(self, team: Team) -> TeamNameClaim:
        """A new team's claim on its name; refused when another team of the contest holds
        the same name (:func:`domain.names.name_key`)."""
        if self._exists(TeamNameClaim.create_id(team.contest_id, team.name_key)):
            raise TeamNameTaken(name=team.name)
        return TeamNameClaim(team.contest_id, team.name_key, team.id)

    def _screen(
        self, team: Team, actor: Actor, now: datetime, *, blacklist: Blacklist | None = None
    ) -> bool:
        lists = blacklist or self.blacklist(team.contest_id)
        evidence = lists.screen(team.organisations)
        return bool(evidence) and team.disqualify(evidence, by=actor.account_id, now=now)

    def _save(
        self,
        *aggregates: Aggregate,
        conflict: Exception | None = None,
        racing_for: Team | None = None,
        new_team: bool = False,
    ) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            if racing_for is not None:
                # Someone claimed one of these people, or this team's name, between our read
                # and our write.
                self._claims(racing_for, racing_for.identity_keys)
                if new_team:
                    self._name_claim(racing_for)
            raise (conflict or ConcurrentChange()) from None

    def _exists(self, ident: UUID) -> bool:
        try:
            self.repository.get(ident)
        except AggregateNotFoundError:
            return False
        return True
