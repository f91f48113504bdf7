"""An expert's (or arbitrator's) declarations, shared by the console (cli/experts.py) and the
browser (web/expert.py): where they stand with the confidentiality agreement in force and their
conflict-of-interest declaration, signing the one and making the other (docs/people.md).

A declared person is named by identity document only: it is normalised like a team member's
(services/identity.py) and only its keyed hash goes on, so it matches the member's
``identity_key`` whatever its spelling and no name or number enters the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from domain.accounts import Actor, Role
from domain.experts import Expert
from domain.registration import PANEL
from domain.signatures import Signer
from services.desk import Desk
from services.intake import IdentitySpec, Name
from services.strict_files import Strict, validated

MAX_TIES = 500


class PersonTie(Strict):
    identity: IdentitySpec


class Ties(Strict):
    """``organisations: [names]``, ``people: [{identity: {type, number[, country]}}]``; both
    may be empty (a declaration of no tie)."""

    organisations: Annotated[list[Name], Field(max_length=MAX_TIES)] = Field(default_factory=list)
    people: Annotated[list[PersonTie], Field(max_length=MAX_TIES)] = Field(default_factory=list)


def ties_of(where: Path, document: Any) -> tuple[list[str], list[str]]:
    """The declared organisations and the declared people's normalised identity documents,
    from a ties document (a file's YAML, or a form's fields); ``where`` names it in a
    refusal."""
    ties = validated(where, Ties, document)
    return list(ties.organisations), [person.identity.text for person in ties.people]


def identity_keys(desk: Desk, acting: Actor, people: list[str]) -> list[str]:
    """The keyed hashes of the declared people's documents, under the identity secret of the
    expert's contest, as its members' are (after the checks of who may declare: an organiser
    is refused for their role, not for a missing enrolment)."""
    if not people:
        return []
    acting.require(*PANEL, action="declare conflicts of interest")
    contest_id = desk.app.expert(acting.account_id).contest_id
    return [desk.vault.identity_hash(contest_id, person) for person in people]


def declare(
    desk: Desk, acting: Actor, organisations: list[str], people: list[str], signer: Signer
) -> int:
    """The acting expert's declaration (signed ``declared``); its number."""
    return desk.app.declare_ties(
        acting.account_id,
        organisations=organisations,
        identity_keys=identity_keys(desk, acting, people),
        actor=acting,
        now=desk.now,
        signer=signer,
    )


def sign_agreement(
    desk: Desk, acting: Actor, sha256: str | None, signer: Signer
) -> tuple[int, str]:
    """Signs the agreement whose text hashes to ``sha256`` (default: the version in force),
    signed ``declared``; its version and hash."""
    if sha256 is None:
        acting.require(Role.EXPERT, Role.ARBITRATOR, action="sign the confidentiality agreement")
        mine = desk.app.expert(acting.account_id)
        sha256 = desk.app.agreement(mine.contest_id).current()["sha256"]
    sha256 = sha256.strip().lower()
    version = desk.app.sign_agreement(
        acting.account_id, agreement_sha256=sha256, actor=acting, now=desk.now, signer=signer
    )
    return version, sha256


@dataclass(frozen=True)
class Standing:
    """Where an enrolled expert stands before any work: the agreement in force (its version,
    hash and text), whether they signed it, their declaration, and why they may not work yet
    (None when they may)."""

    expert: Expert
    agreement: dict[str, Any] | None
    text: str | None
    signed: bool
    declaration: dict[str, Any] | None
    ineligible: str | None

    @property
    def contest_id(self) -> Any:
        return self.expert.contest_id


def standing(desk: Desk, acting: Actor) -> Standing:
    """The acting expert's standing (ExpertNotEnrolled when they are not enrolled)."""
    acting.require(*PANEL, action="read their declarations")
    expert = desk.app.expert(acting.account_id)
    book = desk.app.agreement(expert.contest_id)
    current = book.versions[-1] if book.versions else None
    text = None
    if current is not None:
        text = desk.blobs.get(current["blob"]).decode("utf-8", errors="replace")
    sha256 = book.current_sha256
    return Standing(
        expert=expert,
        agreement=current,
        text=text,
        signed=expert.signed(sha256),
        declaration=expert.declaration,
        ineligible=expert.ineligible(sha256),
    )
