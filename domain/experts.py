"""Experts: who may judge which team [issue 11, point 2].

An expert is enrolled by the organiser with their fields and their own organisations. Before
any work they sign the contest's confidentiality agreement (a document stored by hash; the
organiser publishes each version, :class:`Agreement`) and declare their conflicts of interest:
the organisations and the people they are tied to. Both acts carry their personal signature
(meaning ``declared``), so an expert cannot later deny what they agreed to or declared.

People are declared by identity document, never by name: the declaration carries the keyed
hash of the same normalised identity text a team member's ``identity_key`` is, so a tie
matches a member whatever way either side spelt the number, and no name enters the ledger.

A new declaration supersedes the previous one and the old ones stay in the history; a new
agreement version must be signed again. :func:`conflict` names why an expert may not review a
team (assignment uses it); an expert who has not signed the current agreement and declared is
not eligible for any team.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.errors import (
    AgreementNotCurrent,
    AgreementNotPublished,
    AgreementUnchanged,
    ExpertProfileIncomplete,
)
from domain.organisations import name_key
from domain.teams import Team
from domain.time import require_aware

EXPERT_NAMESPACE = UUID("5c2e9a41-7b3d-4e18-a6f0-1d8c3b7e9a11")
AGREEMENT_NAMESPACE = UUID("b71f3d0e-2c8a-4a95-9e64-7f0a5d2c1b12")


def _names(names: list[str]) -> list[str]:
    """Stripped names without blanks, each spelling of one name once (the first kept)."""
    kept: dict[str, str] = {}
    for name in names:
        key = name_key(name)
        if key and key not in kept:
            kept[key] = name.strip()
    return list(kept.values())


class Agreement(ContestAggregate):
    """The contest's confidentiality agreement: numbered versions, each its text's SHA-256.
    One per contest (derived id), so two first publications race for version 1."""

    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(AGREEMENT_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.versions: list[dict[str, Any]] = []

    class Published(SignedDecision):
        version: int
        sha256: str
        blob: str
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    def publish(
        self,
        *,
        sha256: str,
        blob: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> int:
        if self.versions and self.versions[-1]["sha256"] == sha256:
            raise AgreementUnchanged(version=self.versions[-1]["version"])
        version = len(self.versions) + 1
        self._published(
            version=version,
            sha256=sha256,
            blob=blob,
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )
        return version

    @event(Published)
    def _published(
        self,
        version: int,
        sha256: str,
        blob: str,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.versions.append(
            {"version": version, "sha256": sha256, "blob": blob, "by": by, "at": at}
        )

    def current(self) -> dict[str, Any]:
        """The version an expert must have signed to work."""
        if not self.versions:
            raise AgreementNotPublished()
        return self.versions[-1]

    @property
    def current_sha256(self) -> str | None:
        return self.versions[-1]["sha256"] if self.versions else None


class Expert(ContestAggregate):
    """One expert's enrolment, signed agreements and declarations; its id follows from the
    account's, so an account is enrolled once."""

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return uuid5(EXPERT_NAMESPACE, str(account_id))

    @classmethod
    def enrol(
        cls,
        *,
        account_id: UUID,
        contest_id: UUID,
        fields: list[str],
        organisations: list[str],
        by: UUID,
        now: datetime,
    ) -> Expert:
        """The organiser enrols the expert with their fields and their own organisations
        (those they work for: a team of the same organisation is never theirs to review)."""
        fields, organisations = _names(fields), _names(organisations)
        if not fields or not organisations:
            raise ExpertProfileIncomplete()
        return cls(
            account_id=account_id,
            contest_id=contest_id,
            fields=fields,
            organisations=organisations,
            by=by,
            at=require_aware(now, "now"),
        )

    class Enrolled(ContestAggregate.Created):
        account_id: UUID
        contest_id: UUID
        fields: list[str]
        organisations: list[str]
        by: UUID
        at: datetime

    @event(Enrolled)
    def __init__(
        self,
        account_id: UUID,
        contest_id: UUID,
        fields: list[str],
        organisations: list[str],
        by: UUID,
        at: datetime,
    ) -> None:
        self.account_id = account_id
        self.contest_id = contest_id
        self.fields = fields
        self.organisations = organisations
        self.agreements: list[dict[str, Any]] = []
        self.declarations: list[dict[str, Any]] = []

    # --- commands ------------------------------------------------------------------------

    class AgreementSigned(SignedDecision):
        agreement_sha256: str
        version: int
        at: datetime
        personal_signature: dict[str, Any] | None

    def sign_agreement(
        self,
        agreement_sha256: str,
        *,
        current: dict[str, Any],
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        """Signs the agreement ``current`` (the published version in force); the hash the
        expert read must be exactly that one."""
        if agreement_sha256 != current["sha256"]:
            raise AgreementNotCurrent(sha256=agreement_sha256, current=current["sha256"])
        self._agreement_signed(
            agreement_sha256=agreement_sha256,
            version=current["version"],
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(AgreementSigned)
    def _agreement_signed(
        self,
        agreement_sha256: str,
        version: int,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.agreements.append({"sha256": agreement_sha256, "version": version, "at": at})

    class Declared(SignedDecision):
        number: int
        organisations: list[str]
        identity_keys: list[str]
        at: datetime
        personal_signature: dict[str, Any] | None

    def declare(
        self,
        *,
        organisations: list[str],
        identity_keys: list[str],
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> int:
        """A conflict-of-interest declaration; it supersedes the previous one. Declaring no
        tie at all is a declaration too. Returns its number."""
        number = len(self.declarations) + 1
        self._declared(
            number=number,
            organisations=_names(organisations),
            identity_keys=sorted(set(identity_keys)),
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )
        return number

    @event(Declared)
    def _declared(
        self,
        number: int,
        organisations: list[str],
        identity_keys: list[str],
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.declarations.append(
            {
                "number": number,
                "organisations": organisations,
                "identity_keys": identity_keys,
                "at": at,
            }
        )

    # --- facts for callers -------------------------------------------------------------

    @property
    def declaration(self) -> dict[str, Any] | None:
        """The declaration in force (the latest), or None before the first."""
        return self.declarations[-1] if self.declarations else None

    def signed(self, agreement_sha256: str | None) -> bool:
        return agreement_sha256 is not None and any(
            record["sha256"] == agreement_sha256 for record in self.agreements
        )

    def ineligible(self, agreement_sha256: str | None) -> str | None:
        """Why the expert may do no work at all (None when they may): the current agreement
        unsigned (or none published), or no declaration."""
        if agreement_sha256 is None:
            return "no confidentiality agreement is published"
        if not self.signed(agreement_sha256):
            return "has not signed the current confidentiality agreement"
        if self.declaration is None:
            return "has not declared their conflicts of interest"
        return None

    def may_review(self, team: Team, *, agreement_sha256: str | None) -> bool:
        return conflict(self, team, agreement_sha256=agreement_sha256) is None

    def to_record(self, agreement_sha256: str | None) -> dict[str, Any]:
        """What the organiser sees of the expert (``huiyan expert show``)."""
        declaration = self.declaration
        return {
            "expert": self.id,
            "account": self.account_id,
            "contest": self.contest_id,
            "fields": self.fields,
            "organisations": self.organisations,
            "agreements": self.agreements,
            "declaration": None
            if declaration is None
            else {
                "number": declaration["number"],
                "organisations": declaration["organisations"],
                "people": len(declaration["identity_keys"]),
                "at": declaration["at"],
            },
            "ineligible": self.ineligible(agreement_sha256),
        }


def conflict(expert: Expert, team: Team, *, agreement_sha256: str | None) -> str | None:
    """Why ``expert`` may not review ``team``, or None when they may: not eligible at all, an
    organisation they share with a member, an organisation they declared a tie to, or a member
    they declared a tie to (by identity document). Names compare after folding
    (:func:`domain.organisations.name_key`: full-width, case, spaces)."""
    ineligible = expert.ineligible(agreement_sha256)
    if ineligible is not None:
        return ineligible
    declaration = expert.declaration
    assert declaration is not None  # ineligible() said so
    team_organisations = {name_key(name) for name, _code in team.organisations}
    for name in expert.organisations:
        if name_key(name) in team_organisations:
            return f"shares the organisation {name}"
    for name in declaration["organisations"]:
        if name_key(name) in team_organisations:
            return f"declared a tie to the organisation {name}"
    if set(declaration["identity_keys"]) & set(team.identity_keys):
        return "declared a tie to a member of the team"
    return None
