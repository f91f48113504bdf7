"""Teams and their registration: roster, language, documents, tracks, review, disqualification.

A team is 2 to 5 people with exactly one leader [四]. Members appear in events only as the
keyed hash of their identity number (for "one person, one team") and the hash of their sealed
personal record; names and numbers never enter the ledger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate, SignedDecision
from domain.contest import DOCUMENT_KINDS, IDENTITY_PROOF, LANGUAGES, Contest
from domain.errors import (
    DocumentKindUnknown,
    DocumentMissing,
    DocumentsNotCalled,
    InvitationNotFound,
    LanguageLocked,
    LanguageMissing,
    LanguageUnknown,
    LeaderCount,
    MatchNotFound,
    MemberNotFound,
    MemberTwice,
    NoTrackEntered,
    OrganisationInvalid,
    OrganisationMissing,
    ReasonRequired,
    StatusForbids,
    TeamDisqualified,
    TeamNameInvalid,
    TeamNameMissing,
    TeamNotDisqualified,
    TeamSizeOutOfRange,
    TrackAlreadyEntered,
    TrackNotEntered,
)
from domain.names import hidden_character, name_key
from domain.organisations import normalise_code
from domain.time import require_aware

MIN_TEAM_SIZE, MAX_TEAM_SIZE = 2, 5
CLAIM_NAMESPACE = UUID("c41a7e90-8d2b-4f3c-a6e5-1b9d0f7c2a05")
TEAM_NAME_NAMESPACE = UUID("6b0f2d4e-9c31-4e7a-b5d8-2a7c1e9f3b06")


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# While under review or approved the registration is frozen: withdraw it first [Q&A 21].
EDITABLE = (Status.DRAFT, Status.REJECTED, Status.WITHDRAWN)


@dataclass(frozen=True)
class Member:
    identity_key: str  # HMAC of the identity number under the contest's identity secret
    record: str  # SHA-256 of the sealed personal record in the blob store
    organisation: str
    organisation_code: str | None = None
    leader: bool = False
    account_id: UUID | None = None  # the member's own account, who accepted to be in the team

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


def check_roster(members: list[Member], *, minimum: int = MIN_TEAM_SIZE) -> list[Member]:
    """The roster rules [四]; returns the members with canonical organisation codes. A team
    registers with its leader alone (``minimum=1``) and has its full size when submitted."""
    if not minimum <= len(members) <= MAX_TEAM_SIZE:
        raise TeamSizeOutOfRange(size=len(members), minimum=MIN_TEAM_SIZE, maximum=MAX_TEAM_SIZE)
    leaders = sum(member.leader for member in members)
    if leaders != 1:
        raise LeaderCount(count=leaders)
    seen: set[str] = set()
    canonical = []
    for position, member in enumerate(members, start=1):
        if member.identity_key in seen:
            raise MemberTwice(position=position)
        seen.add(member.identity_key)
        hidden = hidden_character(member.organisation)
        if hidden:
            raise OrganisationInvalid(position=position, character=hidden)
        if not name_key(member.organisation):
            raise OrganisationMissing(position=position)
        canonical.append(
            Member(
                identity_key=member.identity_key,
                record=member.record,
                organisation=member.organisation.strip(),
                organisation_code=normalise_code(member.organisation_code),
                leader=member.leader,
                account_id=member.account_id,
            )
        )
    return canonical


def check_team_name(name: str) -> str:
    """The name as it will be shown; refused when it hides characters or is blank."""
    hidden = hidden_character(name)
    if hidden:
        raise TeamNameInvalid(character=hidden)
    if not name_key(name):
        raise TeamNameMissing()
    return name.strip()


def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise LanguageUnknown(language=language)


class Team(ContestAggregate):
    @classmethod
    def register(
        cls,
        *,
        team_id: UUID,
        contest: Contest,
        name: str,
        language: str | None,
        members: list[Member],
        by: UUID,
        now: datetime,
    ) -> Team:
        contest.calendar.require_registration_open(now)
        name = check_team_name(name)
        if language is not None:
            check_language(language)
        roster = check_roster(members, minimum=1)
        return cls(
            id=team_id,
            contest_id=contest.id,
            name=name,
            language=language,
            members=[member.to_record() for member in roster],
            by=by,
            at=now,
        )

    @event("Registered")
    def __init__(
        self,
        id: UUID,  # noqa: A002 - the library takes the aggregate id by this name
        contest_id: UUID,
        name: str,
        language: str | None,
        members: list[dict[str, Any]],
        by: UUID,
        at: datetime,
    ) -> None:
        self.contest_id, self.name, self.language = contest_id, name, language
        self.members = members
        self.status = Status.DRAFT
        self.tracks: dict[int, str] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.registered_at = at
        self.submitted_at: datetime | None = None
        self.review_due: datetime | None = None
        self.decisions: list[dict[str, Any]] = []
        self.evidence: list[dict[str, Any]] = []
        self.cleared: list[dict[str, Any]] = []
        self.invitations: dict[str, dict[str, Any]] = {}

    # --- facts for callers -------------------------------------------------------------

    @property
    def name_key(self) -> str:
        """Two teams of a contest may not share this key (width, case and spaces aside)."""
        return name_key(self.name)

    @property
    def disqualified(self) -> bool:
        return bool(self.evidence)

    @property
    def identity_keys(self) -> list[str]:
        return [member["identity_key"] for member in self.members]

    @property
    def organisations(self) -> list[tuple[str, str | None]]:
        return [(member["organisation"], member["organisation_code"]) for member in self.members]

    def review_overdue(self, now: datetime) -> bool:
        """Under review for longer than the organiser's answer time [六: 5 days]."""
        return (
            self.status is Status.SUBMITTED
            and self.review_due is not None
            and require_aware(now, "now") > self.review_due
        )

    # --- commands ------------------------------------------------------------------------

    def choose_language(self, language: str, *, contest: Contest, by: UUID, now: datetime) -> None:
        self._require_editable("choose the language", contest, now)
        check_language(language)
        if self.language is not None:
            raise LanguageLocked(language=self.language)
        self._language_chosen(language=language, by=by, at=now)

    @event("LanguageChosen")
    def _language_chosen(self, language: str, by: UUID, at: datetime) -> None:
        self.language = language

    def invite(self, *, token_hash: str, email_key: str, contest: Contest, by: UUID, now: datetime
               ) -> None:  # fmt: skip
        """The leader invites someone by e-mail; nobody joins without accepting [四]."""
        self._require_editable("invite members", contest, now)
        open_invitations = [
            sent for sent in self.invitations.values()
            if now < sent["at"] + timedelta(days=INVITATION_DAYS)
        ]  # fmt: skip
        pending = len(self.members) + len(open_invitations)
        if pending >= MAX_TEAM_SIZE:
            raise TeamSizeOutOfRange(size=pending + 1, minimum=MIN_TEAM_SIZE, maximum=MAX_TEAM_SIZE)
        self._member_invited(token_hash=token_hash, email_key=email_key, by=by, at=now)

    @event("MemberInvited")
    def _member_invited(self, token_hash: str, email_key: str, by: UUID, at: datetime) -> None:
        self.invitations[token_hash] = {"email_key": email_key, "by": by, "at": at}

    def join(self, member: Member, *, token_hash: str, contest: Contest, now: datetime) -> None:
        """The invited person accepts, with their own account and identity document."""
        if token_hash not in self.invitations:
            raise InvitationNotFound()
        self._require_editable("take in members", contest, now)
        (joining,) = check_roster([*self._roster(), member], minimum=1)[-1:]
        self._member_joined(member=joining.to_record(), token_hash=token_hash, at=now)

    @event("MemberJoined")
    def _member_joined(self, member: dict[str, Any], token_hash: str, at: datetime) -> None:
        self.members.append(member)
        self.invitations.pop(token_hash, None)

    def remove_member(self, account_id: UUID, *, contest: Contest, by: UUID, now: datetime
                      ) -> str:  # fmt: skip
        """A member leaves (or the leader removes them); returns their identity key, whose
        claim is released. The leader stays: a team without its leader withdraws instead."""
        self._require_editable("change its members", contest, now)
        found = [m for m in self.members if m.get("account_id") == account_id]
        if not found:
            raise MemberNotFound()
        if found[0]["leader"]:
            raise LeaderCount(count=0)
        self._member_removed(account_id=account_id, by=by, at=now)
        return found[0]["identity_key"]

    @event("MemberRemoved")
    def _member_removed(self, account_id: UUID, by: UUID, at: datetime) -> None:
        self.members = [m for m in self.members if m.get("account_id") != account_id]

    @event("MembersChanged")
    def _members_changed(self, members: list[dict[str, Any]], by: UUID, at: datetime) -> None:
        """Replay only: earlier versions let the organiser replace a roster from a file."""
        self.members = members

    def _roster(self) -> list[Member]:
        return [Member(**member) for member in self.members]

    def attach_document(
        self,
        kind: str,
        *,
        ciphertext: str,
        size: int,
        pages: int,
        contest: Contest,
        by: UUID,
        now: datetime,
    ) -> None:
        if kind not in DOCUMENT_KINDS:
            raise DocumentKindUnknown(kind=kind, kinds=list(DOCUMENT_KINDS))
        if kind == IDENTITY_PROOF:
            self._require_editable("replace its identity proof", contest, now)
        else:
            self._require_eligible()
            if contest.documents_called_at is None:
                raise DocumentsNotCalled(kind=kind)
            contest.calendar.require_before_round(now)
        self._document_attached(
            kind=kind, ciphertext=ciphertext, size=size, pages=pages, by=by, at=now
        )

    @event("DocumentAttached")
    def _document_attached(
        self, kind: str, ciphertext: str, size: int, pages: int, by: UUID, at: datetime
    ) -> None:
        self.documents[kind] = {"ciphertext": ciphertext, "size": size, "pages": pages, "at": at}

    def enter_track(
        self, track: int, group: str, *, contest: Contest, by: UUID, now: datetime
    ) -> None:
        self._require_editable("enter a track", contest, now)
        contest.calendar.require_registration_open(now)
        contest.require_group(track, group)
        if track in self.tracks:
            raise TrackAlreadyEntered(track=track, group=self.tracks[track])
        self._track_entered(track=track, group=group, by=by, at=now)

    @event("TrackEntered")
    def _track_entered(self, track: int, group: str, by: UUID, at: datetime) -> None:
        self.tracks[track] = group

    def leave_track(self, track: int, *, contest: Contest, by: UUID, now: datetime) -> None:
        self._require_editable("leave a track", contest, now)
        if track not in self.tracks:
            raise TrackNotEntered(track=track)
        self._track_left(track=track, by=by, at=now)

    @event("TrackLeft")
    def _track_left(self, track: int, by: UUID, at: datetime) -> None:
        del self.tracks[track]

    def submit(self, *, contest: Contest, by: UUID, now: datetime) -> None:
        self._require_eligible()
        self._require_status("submit for review", *EDITABLE)
        if self.status is Status.WITHDRAWN:
            # A registration withdrawn to change members returns under the change deadline.
            contest.calendar.require_modification_open(now)
        else:
            # First submission, or resubmission after rejection [六].
            contest.calendar.require_registration_open(now)
        check_roster(self._roster())
        if self.language is None:
            raise LanguageMissing()
        if not self.tracks:
            raise NoTrackEntered()
        if IDENTITY_PROOF not in self.documents:
            raise DocumentMissing(kind=IDENTITY_PROOF)
        self._submitted(review_sla_days=contest.calendar.review_sla_days, by=by, at=now)

    @event("Submitted")
    def _submitted(self, review_sla_days: int, by: UUID, at: datetime) -> None:
        self.status = Status.SUBMITTED
        self.submitted_at = at
        self.review_due = at + timedelta(days=review_sla_days)

    def withdraw(self, *, contest: Contest, by: UUID, now: datetime) -> None:
        self._require_eligible()
        self._require_status("withdraw its registration", Status.SUBMITTED, Status.APPROVED)
        contest.calendar.require_modification_open(now)
        self._withdrawn(by=by, at=now)

    @event("Withdrawn")
    def _withdrawn(self, by: UUID, at: datetime) -> None:
        self.status = Status.WITHDRAWN

    class Approved(SignedDecision):
        reason: str
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    class Rejected(SignedDecision):
        reason: str
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    class MatchCleared(SignedDecision):
        match: str
        reason: str
        by: UUID
        at: datetime
        personal_signature: dict[str, Any] | None

    def approve(
        self,
        *,
        by: UUID,
        now: datetime,
        reason: str = "",
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        self._require_eligible()
        self._require_status("be approved", Status.SUBMITTED)
        self._approved(
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Approved)
    def _approved(
        self, reason: str, by: UUID, at: datetime, personal_signature: dict[str, Any] | None
    ) -> None:
        self.status = Status.APPROVED
        self.decisions.append({"decision": "approved", "reason": reason, "by": by, "at": at})

    def reject(
        self,
        *,
        reason: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        self._require_eligible()
        self._require_status("be rejected", Status.SUBMITTED)
        if not reason.strip():
            raise ReasonRequired()
        self._rejected(
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(Rejected)
    def _rejected(
        self, reason: str, by: UUID, at: datetime, personal_signature: dict[str, Any] | None
    ) -> None:
        self.status = Status.REJECTED
        self.decisions.append({"decision": "rejected", "reason": reason, "by": by, "at": at})

    def disqualify(self, evidence: list[dict[str, Any]], *, by: UUID, now: datetime) -> bool:
        """Records matches not seen and not cleared before; False when nothing is new."""
        known = {item["match"] for item in self.evidence} | {item["match"] for item in self.cleared}
        fresh = [item for item in evidence if item["match"] not in known]
        if not fresh:
            return False
        self._disqualified(evidence=fresh, by=by, at=require_aware(now, "now"))
        return True

    @event("Disqualified")
    def _disqualified(self, evidence: list[dict[str, Any]], by: UUID, at: datetime) -> None:
        self.evidence.extend(evidence)

    def clear_match(
        self,
        match: str,
        *,
        reason: str,
        by: UUID,
        now: datetime,
        personal_signature: dict[str, Any] | None = None,
    ) -> None:
        """An organiser's signed decision that a match was false (same name, other entity)."""
        if not self.disqualified:
            raise TeamNotDisqualified()
        if match not in {item["match"] for item in self.evidence}:
            raise MatchNotFound(match=match)
        if not reason.strip():
            raise ReasonRequired()
        self._match_cleared(
            match=match,
            reason=reason.strip(),
            by=by,
            at=require_aware(now, "now"),
            personal_signature=personal_signature,
        )

    @event(MatchCleared)
    def _match_cleared(
        self,
        match: str,
        reason: str,
        by: UUID,
        at: datetime,
        personal_signature: dict[str, Any] | None,
    ) -> None:
        self.evidence = [item for item in self.evidence if item["match"] != match]
        self.cleared.append({"match": match, "reason": reason, "by": by, "at": at})

    # --- guards ------------------------------------------------------------------------------

    def _require_eligible(self) -> None:
        if self.disqualified:
            raise TeamDisqualified()

    def _require_status(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            raise StatusForbids(status=self.status.value, action=action)

    def _require_editable(self, action: str, contest: Contest, now: datetime) -> None:
        self._require_eligible()
        self._require_status(action, *EDITABLE)
        contest.calendar.require_modification_open(now)


class PersonClaim(ContestAggregate):
    """ "One person in one team only" [四]: one claim per person per contest, derived from the
    keyed identity hash and saved in the same transaction as the team, so that of two racing
    registrations the store lets exactly one write version 1."""

    @staticmethod
    def create_id(contest_id: UUID, identity_key: str) -> UUID:
        return uuid5(CLAIM_NAMESPACE, f"{contest_id}\n{identity_key}")

    @event("Claimed")
    def __init__(self, contest_id: UUID, identity_key: str, team_id: UUID) -> None:
        self.contest_id = contest_id
        self.team_id: UUID | None = team_id

    def take(self, team_id: UUID) -> None:
        self._taken(team_id=team_id)

    @event("Taken")
    def _taken(self, team_id: UUID) -> None:
        self.team_id = team_id

    def release(self) -> None:
        self._released()

    @event("Released")
    def _released(self) -> None:
        self.team_id = None


class TeamNameClaim(ContestAggregate):
    """One team per name per contest, names compared by :func:`domain.names.name_key`: the
    claim's id is derived from the key and saved with the team, like a :class:`PersonClaim`,
    so of two teams registering one name at the same moment exactly one is stored."""

    @staticmethod
    def create_id(contest_id: UUID, key: str) -> UUID:
        return uuid5(TEAM_NAME_NAMESPACE, f"{contest_id}\n{key}")

    @event("Claimed")
    def __init__(self, contest_id: UUID, key: str, team_id: UUID) -> None:
        self.contest_id, self.key, self.team_id = contest_id, key, team_id


INVITATION_NAMESPACE = UUID("2d9e6a41-7c3b-4f58-9e12-5b8a0c4d7f07")
INVITATION_DAYS = 7


class Invitation(ContestAggregate):
    """An invitation token's team, found by the token's hash alone, and used at most once
    within INVITATION_DAYS. The token itself is never recorded."""

    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return uuid5(INVITATION_NAMESPACE, token_hash)

    @event("Issued")
    def __init__(self, token_hash: str, team_id: UUID, expires: datetime) -> None:
        self.token_hash, self.team_id, self.expires = token_hash, team_id, expires
        self.used_by: UUID | None = None

    @classmethod
    def issue(cls, token_hash: str, team_id: UUID, now: datetime) -> Invitation:
        expires = require_aware(now, "now") + timedelta(days=INVITATION_DAYS)
        return cls(token_hash=token_hash, team_id=team_id, expires=expires)

    def use(self, account_id: UUID, now: datetime) -> None:
        if self.used_by is not None or require_aware(now, "now") >= self.expires:
            raise InvitationNotFound()
        self._used(account_id=account_id, at=now)

    @event("Used")
    def _used(self, account_id: UUID, at: datetime) -> None:
        self.used_by = account_id
