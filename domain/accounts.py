"""Accounts and roles. An account's id is derived from the keyed hash of its login, so logins
are unique without the login itself ever entering the ledger; the credential (login and
argon2id hash) lives sealed in the blob store and the event names its ciphertext hash.

One role per account: the separation of duties of MLPS level 3 (三权分立) is easier to audit
when an organiser and an audit administrator can never be the same account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import NotPermitted, RoleUnknown, TeamAccountNeedsTeam, TeamNotYours
from domain.time import require_aware

ACCOUNT_NAMESPACE = UUID("9a1e4c2b-6d3f-4b7a-8e10-3c5d7f9b1a03")


class Role(StrEnum):
    TEAM_MEMBER = "team_member"
    ORGANISER = "organiser"
    EXPERT = "expert"
    ARBITRATOR = "arbitrator"
    COMPLIANCE_OFFICER = "compliance_officer"
    AUDIT_ADMINISTRATOR = "audit_administrator"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise RoleUnknown(role=value, roles=[role.value for role in cls]) from None


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


class Account(ContestAggregate):
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
        team_id: UUID | None,
        leader: bool,
        by: UUID | None,
        now: datetime,
    ) -> Account:
        require_aware(now, "now")
        if (role is Role.TEAM_MEMBER) != (team_id is not None):
            raise TeamAccountNeedsTeam()
        return cls(
            login_key=login_key,
            role=role.value,
            credential=credential,
            team_id=team_id,
            leader=leader and role is Role.TEAM_MEMBER,
            by=by,
            at=now,
        )

    @event("Opened")
    def __init__(
        self,
        login_key: str,
        role: str,
        credential: str,
        team_id: UUID | None,
        leader: bool,
        by: UUID | None,
        at: datetime,
    ) -> None:
        self.login_key, self.role = login_key, Role(role)
        self.credential = credential
        self.team_id, self.leader = team_id, leader
        self.opened_by, self.opened_at = by, at

    def change_credential(self, *, credential: str, by: UUID, now: datetime) -> None:
        self._credential_changed(credential=credential, by=by, at=require_aware(now, "now"))

    @event("CredentialChanged")
    def _credential_changed(self, credential: str, by: UUID, at: datetime) -> None:
        self.credential = credential

    @property
    def actor(self) -> Actor:
        return Actor(account_id=self.id, role=self.role, team_id=self.team_id, leader=self.leader)


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
