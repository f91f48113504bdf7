"""The organiser's steps that do file work around the registration desk, shared by the CLI
(cli/registration.py, cli/experts.py, cli/people.py) and the organiser's pages (web/organiser.py):
publishing the rules and the confidentiality agreement, importing a blacklist, opening an
account, enrolling an expert, reading a team's document; and what the pages show beside them
(the calendar's phases, the review queue with its deadline).

Each takes the acting person (and their signer where the step is a decision), exactly as the
command would; nothing here decides what the domain decides.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.accounts import Account, Actor, Role
from domain.contest import IDENTITY_PROOF, Calendar, Contest
from domain.signatures import Signer
from domain.teams import Status
from services import intake, strict_files
from services.credentials import Credential, CredentialError, check_login, seal_credential
from services.desk import Desk
from services.errors import ServiceRefused
from services.intake import Name
from services.passwords import hash_password
from services.read_models import listings
from services.signin import new_service_secret
from services.strict_files import Strict, validated

AGREEMENT_LIMIT = 1024 * 1024

# --- the calendar ----------------------------------------------------------------------------

# The phases in order, each beginning at a date of the calendar (the first at the contest's
# creation): (phase, the calendar field it begins at).
PHASES: tuple[tuple[str, str | None], ...] = (
    ("registration", None),
    ("modification", "registration_deadline"),
    ("preparation", "modification_deadline"),
    ("preliminary", "preliminary_start"),
    ("judging", "preliminary_end"),
    ("final", "final_start"),
    ("closed", "final_end"),
)


def current_phase(calendar: Calendar, now: datetime) -> str:
    """The phase ``now`` falls in; each date closes the phase before it (``now < deadline``
    is still before it, as everywhere in the domain)."""
    phase = PHASES[0][0]
    for name, begins in PHASES[1:]:
        assert begins is not None
        if now >= getattr(calendar, begins):
            phase = name
    return phase


# --- the review queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedTeam:
    """One team as the organiser's review queue shows it."""

    id: UUID
    name: str
    status: str
    submitted_at: datetime | None
    review_due: datetime | None
    days_left: int | None  # whole days until the answer is due; negative once overdue
    overdue: bool
    disqualified: bool


def review_queue(desk: Desk, contest_id: UUID) -> list[QueuedTeam]:
    """Every team of the contest, those waiting for an answer first (the most urgent at the
    top); which teams from the listing, each team's facts from its aggregate."""
    rows = []
    for listed in listings(desk.app).teams(contest_id):
        team = desk.app.team(listed.id)
        waiting = team.status is Status.SUBMITTED and team.review_due is not None
        left = (team.review_due - desk.now).total_seconds() if waiting else None
        rows.append(
            QueuedTeam(
                id=team.id,
                name=team.name,
                status=team.status.value,
                submitted_at=team.submitted_at,
                review_due=team.review_due if waiting else None,
                days_left=None if left is None else int(left // 86400),
                overdue=team.review_overdue(desk.now),
                disqualified=team.disqualified,
            )
        )
    return sorted(rows, key=lambda row: (row.review_due is None, row.review_due or desk.now))


def read_document(desk: Desk, acting: Actor, team_id: UUID, kind: str) -> bytes:
    """One of the team's documents, unsealed (the organiser or the team's own members); the
    read, allowed or not, is in the access log."""
    action = "read.id_document" if kind == IDENTITY_PROOF else "read.document"
    desk.require_read(acting, team_id, action, "a team's documents")
    document = desk.app.team(team_id).documents.get(kind)
    if document is None:
        raise ServiceRefused(f"the team has no document {kind!r}")
    data = desk.vault.open_from(desk.blobs, team_id, document["ciphertext"])
    desk.record_access(acting, action, team_id, "ok")
    return data


# --- published documents ---------------------------------------------------------------------


def publish_rules(
    desk: Desk, acting: Actor, contest: Contest, path: Path, signer: Signer
) -> tuple[int, str]:
    """Checks the rules document, stores it, and commits it by SHA-256 under the person's
    signature (published); its version and hash."""
    from scoring.rules import RulesInvalid, parse_rules, rules_sha256

    data = strict_files.read_capped(path, strict_files.YAML_LIMIT)
    try:
        parsed = parse_rules(data)
    except RulesInvalid as error:
        raise strict_files.FileInvalid(path, "(rules)", str(error)) from None
    # The appeal window is announced twice (the contest's calendar, the rules); one window.
    announced = contest.calendar.appeal_window_days
    if parsed.appeals.window_days != announced:
        raise strict_files.FileInvalid(
            path, "appeals.window_days",
            f"{parsed.appeals.window_days} days, but the contest's calendar announces {announced}",
        )  # fmt: skip
    return _publish(desk, acting, desk.app.publish_rules, contest.id, data, rules_sha256(data),
                    signer)  # fmt: skip


def publish_agreement(
    desk: Desk, acting: Actor, contest_id: UUID, path: Path, signer: Signer
) -> tuple[int, str]:
    """Stores the confidentiality agreement's text and records it by SHA-256 under the
    person's signature (published); its version and hash."""
    data = strict_files.read_capped(path, AGREEMENT_LIMIT)
    if not strict_files.utf8(path, data).strip():
        raise strict_files.FileInvalid(path, "(file)", "empty")
    sha256 = hashlib.sha256(data).hexdigest()
    return _publish(desk, acting, desk.app.publish_agreement, contest_id, data, sha256, signer)


def _publish(
    desk: Desk,
    acting: Actor,
    publish: Callable[..., int],
    contest_id: UUID,
    data: bytes,
    sha256: str,
    signer: Signer,
) -> tuple[int, str]:
    """A document stored in the blob store and committed by its hash (signed: published)."""
    version = publish(
        contest_id,
        sha256=sha256,
        blob=desk.blobs.put(data),
        actor=acting,
        now=desk.now,
        signer=signer,
    )
    return version, sha256


# --- the blacklists --------------------------------------------------------------------------


def import_blacklist(
    desk: Desk, acting: Actor, contest_id: UUID, path: Path, *, source: str, listed_on: str | None
) -> tuple[list[tuple[int, list[UUID]]], int, int, list[UUID]]:
    """Stores the list file by hash, finishes any screening cut short, imports the list and
    screens every team: (the screenings resumed, the list's number, its entries, the teams it
    disqualified)."""
    listing = intake.load_blacklist(path)
    desk.blobs.put(listing.data)
    resumed = desk.app.resume_screening(contest_id, actor=acting, now=desk.now)
    number, disqualified = desk.app.import_blacklist(
        contest_id,
        source=source,
        sha256=listing.sha256,
        listed_on=intake.listed_on(listed_on, desk.now),
        entries=listing.entries,
        actor=acting,
        now=desk.now,
    )
    return resumed, number, len(listing.entries), disqualified


# --- accounts and experts --------------------------------------------------------------------


def account_id(desk: Desk, login: str) -> UUID:
    return Account.create_id(desk.vault.keyed_hash(login))


def open_person_account(
    desk: Desk,
    acting: Actor | None,
    *,
    login: str,
    role: Role,
    password: str,
    printed_name: str | None = None,
) -> UUID:
    """A person's account in any role but a team member's, with its first password (the
    person changes it, which gives them a key pair of their own); its id."""
    check_login(login)
    login_key = desk.vault.keyed_hash(login)
    opened_id = Account.create_id(login_key)
    credential, key = Credential.new(login, password)
    record = json.dumps({"name": printed_name or login}, ensure_ascii=False).encode()
    if not desk.vault.has_key(opened_id):
        desk.vault.create_key(opened_id)
    return desk.app.open_account(
        login_key=login_key,
        role=role,
        credential=seal_credential(desk.vault, desk.blobs, opened_id, credential),
        actor=acting,
        now=desk.now,
        person=desk.vault.seal_to(desk.blobs, opened_id, record),
        public_key=key.hex(),
    )


def open_service_account(desk: Desk, acting: Actor | None, *, login: str) -> tuple[UUID, Path]:
    """A service identity (the workers', the dispatcher's): its key file is written first
    (never over another), and taken back if the account is refused, so a key file always
    proves an account that exists. Returns the account's id and the key file's path."""
    check_login(login)
    secret = new_service_secret()
    path = desk.settings.keys_dir / "services" / f"{login}.key"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CredentialError(f"a key file for the service {login!r} exists: {path}") from None
    with os.fdopen(fd, "w") as stream:
        stream.write(f"{login} {secret}\n")
    opened_id = account_id(desk, login)
    credential = Credential(login=login, password_hash=hash_password(secret))
    try:
        opened = desk.app.open_account(
            login_key=desk.vault.keyed_hash(login),
            role=Role.SERVICE,
            credential=seal_credential(desk.vault, desk.blobs, opened_id, credential),
            actor=acting,
            now=desk.now,
        )
    except BaseException:
        path.unlink()
        raise
    return opened, path


class Enrolment(Strict):
    """An expert's fields and organisations, checked like a file's names."""

    fields: Annotated[list[Name], Field(min_length=1, max_length=50)]
    organisations: Annotated[list[Name], Field(min_length=1, max_length=50)]


def enrol_expert(
    desk: Desk,
    acting: Actor,
    contest_id: UUID,
    login: str,
    *,
    fields: list[str],
    organisations: list[str],
) -> UUID:
    """Enrols the expert's account ``login`` with their fields and organisations; the
    expert's id."""
    given = validated(
        Path("(options)"), Enrolment, {"fields": fields, "organisations": organisations}
    )
    return desk.app.enrol_expert(
        contest_id,
        account_id(desk, login),
        fields=list(given.fields),
        organisations=list(given.organisations),
        actor=acting,
        now=desk.now,
    )
