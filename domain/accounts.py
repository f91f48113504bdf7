"""Accounts and roles. An account's id is derived from the keyed hash of its login, so logins
are unique without the login itself ever entering the ledger; the credential (login and
argon2id hash) lives sealed in the blob store and the event names its ciphertext hash.

One role per account: the separation of duties of MLPS level 3 (三权分立) is easier to audit
when an organiser and an audit administrator can never be the same account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import (
    AlreadyInTeam,
    NotPermitted,
    ReasonRequired,
    RoleUnknown,
    SigningKeyRequired,
    TeamNotYours,
)
from domain.time import require_aware

ACCOUNT_NAMESPACE = UUID("9a1e4c2b-6d3f-4b7a-8e10-3c5d7f9b1a03")


class Role(StrEnum):
    TEAM_MEMBER = "team_member"
    ORGANISER = "organiser"
    EXPERT = "expert"
    ARBITRATOR = "arbitrator"
    COMPLIANCE_OFFICER = "compliance_officer"
    AUDIT_ADMINISTRATOR = "audit_administrator"
    SERVICE = "service"  # dispatcher, workers: system work only, never a person's decision

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise RoleUnknown(role=value, roles=[role.value for role in cls]) from None


# Those who administer and judge prove two factors (MLPS level 3, GB/T 22239-2019 8.1.4.1).
PRIVILEGED = frozenset(
    {Role.ORGANISER, Role.ARBITRATOR, Role.COMPLIANCE_OFFICER, Role.AUDIT_ADMINISTRATOR}
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: every privileged command names its actor, and its role decides."""

    account_id: UUID
    role: Role
    team_id: UUID | None = None
    leader: bool = False

    def require(self, *roles: Role, action: str) -> None:
        if self.role not in roles:
            raise NotPermitted(role=self.role.value, action=action)

    def require_for_team(self, team_id: UUID, action: str) -> None:
        """The organiser, or the leader of that very team [四: the leader registers]."""
        if self.role is Role.ORGANISER:
            return
        if self.role is Role.TEAM_MEMBER and self.team_id != team_id:
            # A member of another team is refused for the team, not for their role.
            raise TeamNotYours(team=team_id)
        if not (self.role is Role.TEAM_MEMBER and self.leader):
            raise NotPermitted(role=self.role.value, action=action)

    def require_leader_of(self, team_id: UUID, action: str) -> None:
        """That very team's leader (not the organiser: a team composes itself)."""
        if self.role is Role.TEAM_MEMBER and self.team_id != team_id:
            raise TeamNotYours(team=team_id)
        if not (self.role is Role.TEAM_MEMBER and self.leader):
            raise NotPermitted(role=self.role.value, action=action)

    def require_reader_of(self, team_id: UUID, what: str) -> None:
        """Who may read a team's own things (its roster, documents, results, reports): the
        organiser [七: the organiser runs the contest] and that team's members. An expert
        sees only what the judging allows, through the judging's own reads."""
        if self.role is Role.ORGANISER:
            return
        if self.role is Role.TEAM_MEMBER:
            if self.team_id != team_id:
                raise TeamNotYours(team=team_id)
            return
        raise NotPermitted(role=self.role.value, action=f"read {what}")


class Account(ContestAggregate):
    """One person (or one service) and what the ledger must know of them to check their
    decisions offline: the public half of their signing key, every key they ever held, and
    the team they joined. Secrets live in the sealed credential the events name by hash."""

    @staticmethod
    def create_id(login_key: str) -> UUID:
        return uuid5(ACCOUNT_NAMESPACE, login_key)

    @classmethod
    def open(
        cls,
        *,
        login_key: str,
        role: Role,
        credential: str,
        by: UUID | None,
        now: datetime,
        person: str | None = None,
        public_key: str | None = None,
    ) -> Account:
        """A team is joined afterwards (:meth:`join_team`); ``team_id`` and ``leader`` of the
        event stay for accounts recorded before people joined teams themselves."""
        require_aware(now, "now")
        if (public_key is None) != (role is Role.SERVICE):
            # People sign their decisions; a service identity has no personal key to sign with.
            raise SigningKeyRequired(role=role.value)
        return cls(
            login_key=login_key,
            role=role.value,
            credential=credential,
            team_id=None,
            leader=False,
            by=by,
            at=now,
            person=person,
            personal_public_key=public_key,
            personal_key_id=key_id_of(public_key) if public_key else None,
        )

    class Opened(ContestAggregate.Created):
        """v2 adds the sealed printed name and the personal public key."""

        class_version = 2
        login_key: str
        role: str
        credential: str
        team_id: UUID | None
        leader: bool
        by: UUID | None
        at: datetime
        person: str | None
        personal_public_key: str | None
        personal_key_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(person=None, personal_public_key=None, personal_key_id=None)

    @event(Opened)
    def __init__(
        self,
        login_key: str,
        role: str,
        credential: str,
        team_id: UUID | None,
        leader: bool,
        by: UUID | None,
        at: datetime,
        person: str | None,
        personal_public_key: str | None,
        personal_key_id: str | None,
    ) -> None:
        self.login_key, self.role = login_key, Role(role)
        self.credential = credential
        self.team_id, self.leader = team_id, leader
        self.opened_by, self.opened_at = by, at
        self.person = person
        self.second_factor = False
        self.public_key = personal_public_key
        self.key_id = personal_key_id
        self.keys: list[str] = [personal_key_id] if personal_key_id else []
        # A key pair made under a password someone else chose (an organiser opening the
        # account, or replacing a lost password) is not yet the person's own to sign with.
        self.own_key = by is None

    def change_credential(self, *, credential: str, by: UUID, now: datetime) -> None:
        self._credential_changed(credential=credential, by=by, at=require_aware(now, "now"))

    @event("CredentialChanged")
    def _credential_changed(self, credential: str, by: UUID, at: datetime) -> None:
        self.credential = credential

    def enrol_second_factor(self, *, credential: str, now: datetime) -> None:
        """The person enrols their own TOTP secret (sealed in the new credential)."""
        self._second_factor_enrolled(credential=credential, at=require_aware(now, "now"))

    @event("SecondFactorEnrolled")
    def _second_factor_enrolled(self, credential: str, at: datetime) -> None:
        self.credential, self.second_factor = credential, True

    def replace_signing_key(
        self, *, credential: str, public_key: str, reason: str, by: UUID, now: datetime
    ) -> None:
        """A lost password: a new key pair. Signatures made with the old key stay valid up
        to this event and no further."""
        if not reason.strip():
            raise ReasonRequired()
        self._signing_key_replaced(
            credential=credential,
            personal_public_key=public_key,
            personal_key_id=key_id_of(public_key),
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
        )

    @event("SigningKeyReplaced")
    def _signing_key_replaced(
        self,
        credential: str,
        personal_public_key: str,
        personal_key_id: str,
        reason: str,
        by: UUID,
        at: datetime,
    ) -> None:
        self.credential = credential
        self.public_key, self.key_id = personal_public_key, personal_key_id
        self.keys.append(personal_key_id)
        self.own_key = by == self.id

    def join_team(self, team_id: UUID, *, leader: bool, now: datetime) -> None:
        """One account, one team: a person registers a team (as its leader) or accepts an
        invitation only while in none."""
        if self.role is not Role.TEAM_MEMBER:
            raise NotPermitted(role=self.role.value, action="join a team")
        if self.team_id is not None:
            raise AlreadyInTeam(team=self.team_id)
        self._joined_team(team_id=team_id, leader=leader, at=require_aware(now, "now"))

    @event("JoinedTeam")
    def _joined_team(self, team_id: UUID, leader: bool, at: datetime) -> None:
        self.team_id, self.leader = team_id, leader

    def leave_team(self, *, now: datetime) -> None:
        self._left_team(team_id=self.team_id, at=require_aware(now, "now"))

    @event("LeftTeam")
    def _left_team(self, team_id: UUID | None, at: datetime) -> None:
        self.team_id, self.leader = None, False

    @property
    def needs_second_factor(self) -> bool:
        return self.role in PRIVILEGED

    @property
    def actor(self) -> Actor:
        return Actor(account_id=self.id, role=self.role, team_id=self.team_id, leader=self.leader)


def key_id_of(public_key_hex: str) -> str:
    """The short id of a personal public key (hex), as its signatures name it."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


class BootstrapClaim(ContestAggregate):
    """The platform's first account is opened without an organiser; exactly one may be. A
    claim with one fixed id, saved in the same transaction as that account, decides it: of two
    racing first accounts the store lets exactly one write version 1 (no scan of the log)."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(ACCOUNT_NAMESPACE, "bootstrap")

    @event("Claimed")
    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id
