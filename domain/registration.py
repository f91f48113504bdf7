"""The registration desk: the service layer that loads aggregates, hands them the time and the
facts they need, and saves what they decide in one transaction.

Which store it writes to is configuration (``PERSISTENCE_MODULE``), never an import. Each
command names its actor; the role check happens here, the contest rules in the aggregates.
Personal content never reaches this layer: callers seal it first and pass hashes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.accounts import Account, Actor, BootstrapClaim, Role
from domain.blacklist import Blacklist, Entries, ListReader, clean_entries
from domain.contest import IDENTITY_PROOF, Calendar, Contest, Quota
from domain.desk import ContestDesk
from domain.errors import (
    AccountExists,
    BlacklistContentMismatch,
    BlacklistUnreadable,
    ConcurrentChange,
    ContestAlreadyExists,
    ContestNotFound,
    ExpertAlreadyEnrolled,
    ExpertNotEnrolled,
    ExpertNotYours,
    InvitationNotFound,
    NotAnExpert,
    NotPermitted,
    PersonInAnotherTeam,
    TeamNameTaken,
)
from domain.experts import Agreement, Expert, conflict
from domain.key_decisions import KeyDecisions
from domain.rules import RulesBook
from domain.signatures import Signer
from domain.teams import Invitation, Member, PersonClaim, Team, TeamNameClaim

A = TypeVar("A", bound=Aggregate)
# Who is enrolled, signs the agreement and declares ties: experts and arbitrators alike.
PANEL = (Role.EXPERT, Role.ARBITRATOR)
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

    def account_by_login(self, login_key: str) -> Account:
        return self.account(Account.create_id(login_key))

    def invitation(self, token_hash: str) -> Invitation:
        return self._get(Invitation, Invitation.create_id(token_hash), InvitationNotFound())

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
        person: str | None = None,
        public_key: str | None = None,
    ) -> UUID:
        """The first account may be opened by the operator alone (bootstrap); every later
        one by an organiser. Team members open their own (:meth:`open_own_account`)."""
        if actor is None:
            if self._exists(BootstrapClaim.create_id()) or role is not Role.ORGANISER:
                # The one account opened by nobody is the first organiser.
                raise NotPermitted(role="anonymous", action="open accounts")
        else:
            actor.require(Role.ORGANISER, action="open accounts")
        if role is Role.TEAM_MEMBER:
            # Team members open their own accounts and join a team by accepting.
            raise NotPermitted(role="organiser", action="open a team member's account")
        if self._exists(Account.create_id(login_key)):
            raise AccountExists()
        account = Account.open(
            login_key=login_key,
            role=role,
            credential=credential,
            by=actor.account_id if actor else None,
            now=now,
            person=person,
            public_key=public_key,
        )
        claims = [BootstrapClaim(account.id)] if actor is None else []
        try:
            self._save(account, *claims, conflict=AccountExists())
        except AccountExists:
            if claims and self._exists(BootstrapClaim.create_id()):
                raise NotPermitted(role="anonymous", action="open accounts") from None
            raise
        return account.id

    def open_own_account(
        self, *, login_key: str, credential: str, person: str, public_key: str, now: datetime
    ) -> UUID:
        """Anyone opens their own team-member account (no team yet); nobody opens one for
        them [四: each participant registers]."""
        if self._exists(Account.create_id(login_key)):
            raise AccountExists()
        account = Account.open(
            login_key=login_key,
            role=Role.TEAM_MEMBER,
            credential=credential,
            by=None,
            now=now,
            person=person,
            public_key=public_key,
        )
        self._save(account, conflict=AccountExists())
        return account.id

    def bootstrapped(self) -> bool:
        """Whether the instance's first account exists (every later one needs an organiser)."""
        return self._exists(BootstrapClaim.create_id())

    def change_password(self, *, credential: str, actor: Actor, now: datetime) -> None:
        """A person's own password change: the same key pair, resealed."""
        account = self.account(actor.account_id)
        account.change_credential(credential=credential, by=actor.account_id, now=now)
        self._save(account)

    def enrol_second_factor(self, *, credential: str, actor: Actor, now: datetime) -> None:
        account = self.account(actor.account_id)
        account.enrol_second_factor(credential=credential, now=now)
        self._save(account)

    def take_own_key(
        self, *, credential: str, public_key: str, actor: Actor, now: datetime
    ) -> None:
        """A person whose key pair was made under a password someone else chose sets their own
        password and gets a new key pair only they can open (the old key signs no more)."""
        account = self.account(actor.account_id)
        account.replace_signing_key(
            credential=credential,
            public_key=public_key,
            reason="own password set",
            by=account.id,
            now=now,
        )
        self._save(account)

    def replace_signing_key(
        self,
        account_id: UUID,
        *,
        credential: str,
        public_key: str,
        reason: str,
        actor: Actor,
        now: datetime,
    ) -> None:
        """A lost password: an organiser gives the person a new password and key pair."""
        actor.require(Role.ORGANISER, action="replace a lost password and signing key")
        account = self.account(account_id)
        account.replace_signing_key(
            credential=credential,
            public_key=public_key,
            reason=reason,
            by=actor.account_id,
            now=now,
        )
        self._save(account)

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
        self,
        contest_id: UUID,
        *,
        sha256: str,
        blob: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> int:
        actor.require(Role.ORGANISER, action="publish the scoring rules")
        contest = self.contest(contest_id)
        book = self.rules(contest_id)

        def publish(target: RulesBook, signature: dict[str, Any] | None) -> None:
            target.publish(
                sha256=sha256,
                blob=blob,
                calendar=contest.calendar,
                by=actor.account_id,
                now=now,
                personal_signature=signature,
            )

        self._signed(book, publish, meaning="published", actor=actor, signer=signer, now=now)
        self._save(book)
        return book.versions[-1]["version"]

    # --- teams -----------------------------------------------------------------------------

    def register_team(
        self,
        contest_id: UUID,
        *,
        team_id: UUID,
        name: str,
        language: str | None,
        leader: Member,
        actor: Actor,
        now: datetime,
        tracks: tuple[tuple[int, str], ...] = (),
        identity_proof: dict[str, Any] | None = None,
    ) -> UUID:
        """A signed-in person with no team registers one and becomes its leader [四: the
        leader registers]; the others join by accepting an invitation. The team, its tracks
        and identity proof, the leader's claim and membership are one transaction, so a
        refused track leaves no half-registered team behind. ``identity_proof`` holds the
        ``ciphertext``, ``size`` and ``pages`` of the sealed merged PDF."""
        actor.require(Role.TEAM_MEMBER, action="register a team")
        account = self.account(actor.account_id)
        contest = self.contest(contest_id)
        leading = dataclasses.replace(leader, leader=True, account_id=account.id)
        team = Team.register(
            team_id=team_id,
            contest=contest,
            name=name,
            language=language,
            members=[leading],
            by=actor.account_id,
            now=now,
        )
        account.join_team(team.id, leader=True, now=now)
        for track, group in tracks:
            team.enter_track(track, group, contest=contest, by=actor.account_id, now=now)
        if identity_proof is not None:
            team.attach_document(
                IDENTITY_PROOF, **identity_proof, contest=contest, by=actor.account_id, now=now
            )
        claims = self._claims(team, team.identity_keys)
        name_claim = self._name_claim(team)
        self._screen(team, actor, now)
        self._save(team, account, name_claim, *claims, racing_for=team, new_team=True)
        return team.id

    def invite(
        self, team_id: UUID, *, token_hash: str, email_key: str, actor: Actor, now: datetime
    ) -> UUID:
        """The leader invites someone (by the hash of a token that only the e-mail carries);
        returns the invitation's id."""
        actor.require_leader_of(team_id, action="invite members")
        team = self.team(team_id)
        team.invite(
            token_hash=token_hash,
            email_key=email_key,
            contest=self.contest(team.contest_id),
            by=actor.account_id,
            now=now,
        )
        invitation = Invitation.issue(token_hash, team.id, now)
        self._save(team, invitation)
        return invitation.id

    def accept(self, *, token_hash: str, member: Member, actor: Actor, now: datetime) -> UUID:
        """The invited person accepts with their own account and identity document; returns
        the team's id. Nobody is in a team without this step."""
        actor.require(Role.TEAM_MEMBER, action="accept an invitation")
        invitation = self._get(Invitation, Invitation.create_id(token_hash), InvitationNotFound())
        account = self.account(actor.account_id)
        team = self.team(invitation.team_id)
        contest = self.contest(team.contest_id)
        joining = dataclasses.replace(member, leader=False, account_id=account.id)
        invitation.use(account.id, now)
        account.join_team(team.id, leader=False, now=now)
        team.join(joining, token_hash=token_hash, contest=contest, now=now)
        claims = self._claims(team, [joining.identity_key])
        self._screen(team, actor, now)
        self._save(team, account, invitation, *claims, racing_for=team)
        return team.id

    def remove_member(self, team_id: UUID, account_id: UUID, *, actor: Actor, now: datetime
                      ) -> None:  # fmt: skip
        """A member leaves their team, or its leader removes them; their claim is released."""
        if actor.account_id != account_id:
            actor.require_leader_of(team_id, action="remove members")
        team = self.team(team_id)
        identity_key = team.remove_member(
            account_id, contest=self.contest(team.contest_id), by=actor.account_id, now=now
        )
        account = self.account(account_id)
        account.leave_team(now=now)
        claim = self.repository.get(PersonClaim.create_id(team.contest_id, identity_key))
        claim.release()
        self._save(team, account, claim)

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

    def approve(
        self,
        team_id: UUID,
        *,
        actor: Actor,
        now: datetime,
        reason: str = "",
        signer: Signer | None = None,
    ) -> None:
        actor.require(Role.ORGANISER, action="review registrations")
        team = self.team(team_id)

        def approve(target: Team, signature: dict[str, Any] | None) -> None:
            target.approve(
                by=actor.account_id, now=now, reason=reason, personal_signature=signature
            )

        self._signed(team, approve, meaning="approved", actor=actor, signer=signer, now=now)
        self._save(team)

    def reject(
        self,
        team_id: UUID,
        *,
        reason: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        actor.require(Role.ORGANISER, action="review registrations")
        team = self.team(team_id)

        def reject(target: Team, signature: dict[str, Any] | None) -> None:
            target.reject(reason=reason, by=actor.account_id, now=now, personal_signature=signature)

        self._signed(team, reject, meaning="rejected", actor=actor, signer=signer, now=now)
        self._save(team)

    # --- the ledger's keys -----------------------------------------------------------------

    def key_decisions(self, origin: str) -> KeyDecisions:
        try:
            return self.repository.get(KeyDecisions.create_id(origin))
        except AggregateNotFoundError:
            return KeyDecisions(origin=origin)

    def record_key_rotation(
        self,
        origin: str,
        *,
        retired: str,
        successor: str,
        reason: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        """The organiser's signed decision behind a rotation of the ledger's key."""

        def rotated(target: KeyDecisions, signature: dict[str, Any] | None) -> None:
            target.rotated(
                retired=retired,
                successor=successor,
                reason=reason,
                by=actor.account_id,
                now=now,
                personal_signature=signature,
            )

        self._decide_on_keys(origin, rotated, "rotated", actor=actor, signer=signer, now=now)

    def record_key_revocation(
        self,
        origin: str,
        *,
        key_id: str,
        from_position: int,
        reason: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        """The organiser's signed declaration that a ledger key is compromised."""

        def revoked(target: KeyDecisions, signature: dict[str, Any] | None) -> None:
            target.revoked(
                key_id=key_id,
                from_position=from_position,
                reason=reason,
                by=actor.account_id,
                now=now,
                personal_signature=signature,
            )

        self._decide_on_keys(origin, revoked, "declared", actor=actor, signer=signer, now=now)

    def _decide_on_keys(
        self,
        origin: str,
        decide: Callable[[KeyDecisions, dict[str, Any] | None], None],
        meaning: str,
        *,
        actor: Actor,
        signer: Signer | None,
        now: datetime,
    ) -> None:
        actor.require(Role.ORGANISER, action="change the ledger's keys")
        decisions = self.key_decisions(origin)
        self._signed(decisions, decide, meaning=meaning, actor=actor, signer=signer, now=now)
        self._save(decisions)

    # --- blacklists ------------------------------------------------------------------------

    list_reader: ListReader | None = None
    """Reads a list's entries by the SHA-256 of its file (the CLI: the blob store and the CSV
    parser, :func:`services.intake.blacklist_reader`). Without one, the desk screens only against
    v1 lists (their entries are in their event) and lists imported through this very
    instance (their entries held in memory, keyed by hash)."""

    def import_blacklist(
        self,
        contest_id: UUID,
        *,
        source: str,
        sha256: str,
        listed_on: str,
        entries: Entries,
        actor: Actor,
        now: datetime,
    ) -> tuple[int, list[UUID]]:
        """Finishes any screening left unfinished, records the list by hash with its screening
        due (one transaction), then screens each team of the contest against it, one
        transaction per team; returns the list's number and the teams it disqualified. With a
        :attr:`list_reader`, the file stored under ``sha256`` must read back as ``entries``
        first, so that a screening cut short can resume in another process."""
        actor.require(Role.ORGANISER, action="import credit blacklists")
        self.contest(contest_id)
        self._resume(contest_id, actor, now)
        blacklist = self.blacklist(contest_id)
        number = blacklist.import_list(
            source=source,
            sha256=sha256,
            listed_on=listed_on,
            entries=entries,
            by=actor.account_id,
            now=now,
        )
        self._hold(number, sha256, clean_entries(entries))
        teams = [team.id for team in self.teams(contest_id)]
        blacklist.start_screening(number, teams, by=actor.account_id, now=now)
        self._save(blacklist)
        return number, self._screen_list(blacklist, number, actor, now)

    def resume_screening(
        self, contest_id: UUID, *, actor: Actor, now: datetime
    ) -> list[tuple[int, list[UUID]]]:
        """Continues every screening left unfinished (a crash between two teams) with the
        teams not screened yet; returns, per list, its number and every team its screening
        disqualified (before the crash too). Nothing unfinished: an empty list."""
        actor.require(Role.ORGANISER, action="screen teams against credit blacklists")
        self.contest(contest_id)
        return self._resume(contest_id, actor, now)

    def clear_match(
        self,
        team_id: UUID,
        match: str,
        *,
        reason: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        actor.require(Role.ORGANISER, action="clear a blacklist match")
        team = self.team(team_id)

        def clear(target: Team, signature: dict[str, Any] | None) -> None:
            target.clear_match(
                match, reason=reason, by=actor.account_id, now=now, personal_signature=signature
            )

        self._signed(team, clear, meaning="declared", actor=actor, signer=signer, now=now)
        self._save(team)

    # --- experts (docs/people.md) -------------------------------------------------------

    def expert(self, account_id: UUID) -> Expert:
        return self._get(Expert, Expert.create_id(account_id), ExpertNotEnrolled())

    def agreement(self, contest_id: UUID) -> Agreement:
        return self._get_or_open(Agreement, contest_id)

    def enrol_expert(
        self,
        contest_id: UUID,
        account_id: UUID,
        *,
        fields: list[str],
        organisations: list[str],
        actor: Actor,
        now: datetime,
    ) -> UUID:
        """The organiser enrols an expert's account with their fields and organisations."""
        actor.require(Role.ORGANISER, action="enrol experts")
        self.contest(contest_id)
        if self.account(account_id).role not in PANEL:
            raise NotAnExpert(account=account_id)
        if self._exists(Expert.create_id(account_id)):
            raise ExpertAlreadyEnrolled(account=account_id)
        expert = Expert.enrol(
            account_id=account_id,
            contest_id=contest_id,
            fields=fields,
            organisations=organisations,
            by=actor.account_id,
            now=now,
        )
        self._save(expert, conflict=ExpertAlreadyEnrolled(account=account_id))
        return expert.id

    def publish_agreement(
        self,
        contest_id: UUID,
        *,
        sha256: str,
        blob: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> int:
        """The organiser publishes the confidentiality agreement's text by hash (signed
        ``published``); returns its version. Experts sign each new version again."""
        actor.require(Role.ORGANISER, action="publish the confidentiality agreement")
        self.contest(contest_id)
        agreement = self.agreement(contest_id)

        def publish(target: Agreement, signature: dict[str, Any] | None) -> None:
            target.publish(
                sha256=sha256, blob=blob, by=actor.account_id, now=now,
                personal_signature=signature,
            )  # fmt: skip

        self._signed(agreement, publish, meaning="published", actor=actor, signer=signer, now=now)
        self._save(agreement)
        return agreement.versions[-1]["version"]

    def sign_agreement(
        self,
        account_id: UUID,
        *,
        agreement_sha256: str,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> int:
        """The expert signs the agreement in force, by its hash (signed ``declared``);
        returns its version."""
        expert = self._own_expert(account_id, actor, "sign the confidentiality agreement")
        current = self.agreement(expert.contest_id).current()

        def sign(target: Expert, signature: dict[str, Any] | None) -> None:
            target.sign_agreement(
                agreement_sha256, current=current, now=now, personal_signature=signature
            )

        self._signed(expert, sign, meaning="declared", actor=actor, signer=signer, now=now)
        self._save(expert)
        return current["version"]

    def declare_ties(
        self,
        account_id: UUID,
        *,
        organisations: list[str],
        identity_keys: list[str],
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> int:
        """The expert's conflict-of-interest declaration (signed ``declared``): organisation
        names and the keyed hashes of the identity documents of people they are tied to. It
        supersedes the previous one; returns its number."""
        expert = self._own_expert(account_id, actor, "declare conflicts of interest")

        def declare(target: Expert, signature: dict[str, Any] | None) -> None:
            target.declare(
                organisations=organisations, identity_keys=identity_keys, now=now,
                personal_signature=signature,
            )  # fmt: skip

        self._signed(expert, declare, meaning="declared", actor=actor, signer=signer, now=now)
        self._save(expert)
        return expert.declarations[-1]["number"]

    def expert_conflict(self, account_id: UUID, team_id: UUID) -> str | None:
        """Why this expert may not review this team, or None (:func:`domain.experts.conflict`)."""
        expert = self.expert(account_id)
        agreement = self.agreement(expert.contest_id)
        return conflict(expert, self.team(team_id), agreement_sha256=agreement.current_sha256)

    def _own_expert(self, account_id: UUID, actor: Actor, action: str) -> Expert:
        """An expert acts for themselves only, once enrolled."""
        actor.require(*PANEL, action=action)
        if actor.account_id != account_id:
            raise ExpertNotYours()
        return self.expert(account_id)

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
        """Screens one team against every list of its contest (registration, member change,
        submission); True when it recorded a new disqualification."""
        lists = blacklist or self.blacklist(team.contest_id)
        entries = {
            record["number"]: self._entries_of(lists, record["number"]) for record in lists.lists
        }
        evidence = lists.screen(team.organisations, entries)
        return bool(evidence) and team.disqualify(evidence, by=actor.account_id, now=now)

    def _resume(
        self, contest_id: UUID, actor: Actor, now: datetime
    ) -> list[tuple[int, list[UUID]]]:
        blacklist = self.blacklist(contest_id)
        return [
            (number, self._screen_list(blacklist, number, actor, now))
            for number in blacklist.unfinished()
        ]

    def _screen_list(
        self, blacklist: Blacklist, number: int, actor: Actor, now: datetime
    ) -> list[UUID]:
        """Screens the teams still due against list ``number``: each team's disqualification
        and its progress mark in one transaction, so a crash leaves exactly the teams done
        marked. The list is read first: an unreadable list screens nobody."""
        entries = {number: self._entries_of(blacklist, number)}
        for team_id in blacklist.due(number):
            team = self.team(team_id)
            evidence = blacklist.screen(team.organisations, entries)
            disqualified = bool(evidence) and team.disqualify(
                evidence, by=actor.account_id, now=now
            )
            blacklist.mark_screened(
                number, team_id, disqualified=disqualified, by=actor.account_id, now=now
            )
            self._save(team, blacklist)
        blacklist.finish_screening(number, by=actor.account_id, now=now)
        self._save(blacklist)
        return list(blacklist.screening(number)["disqualified"])

    def _entries_of(self, blacklist: Blacklist, number: int) -> Entries:
        """List ``number``'s entries: from its v1 event, else by hash (:attr:`list_reader`, or
        held in memory); refused as unreadable when missing, altered or not its size."""
        record = blacklist.listing(number)
        if record["embedded"] is not None:
            return record["embedded"]
        entries = self._read_list(number, record["sha256"])
        if len(entries) != record["count"]:
            raise BlacklistUnreadable(list=number, sha256=record["sha256"])
        return entries

    def _read_list(self, number: int, sha256: str) -> Entries:
        if self.list_reader is None:
            held = self._held_lists.get(sha256)
            if held is None:
                raise BlacklistUnreadable(list=number, sha256=sha256)
            return held
        try:
            entries = self.list_reader(sha256)
        except (LookupError, ValueError):
            raise BlacklistUnreadable(list=number, sha256=sha256) from None
        return clean_entries(entries)

    def _hold(self, number: int, sha256: str, entries: Entries) -> None:
        """Makes sure the list can be read by hash before it is recorded."""
        if self.list_reader is None:
            self._held_lists[sha256] = entries
        elif self._read_list(number, sha256) != entries:
            raise BlacklistContentMismatch(sha256=sha256)

    @property
    def _held_lists(self) -> dict[str, Entries]:
        return vars(self).setdefault("_held_list_entries", {})

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
