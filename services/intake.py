"""The organiser's files (contest.yaml, team.yaml, blacklist CSV) turned into domain commands.

Everything in these files is hostile until checked. Each file is read with a size cap, must be
UTF-8 (a byte-order mark is fine), and is parsed by a strict schema (pydantic): exact types
(``"false"`` is not a boolean, ``7`` is not a name, a mapping is not a text), no unknown keys,
every problem listed with its field path, and no traceback. YAML is read without aliases and
without duplicate keys. Names refuse hidden and reordering characters (:mod:`domain.names`);
identity documents are normalised before their keyed hash (:mod:`services.identity`).

This is where personal content is handled and nowhere else: each member's record (name,
identity document, contact) is sealed with the team's data key into the blob store, and only
the ciphertext hash and the keyed hash of the identity number go on to the domain.
docs/contest.md documents every file format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.accounts import Actor
from domain.contest import Calendar, Quota
from domain.errors import OrganisationCodeInvalid
from domain.names import hidden_character, name_key, shown
from domain.organisations import normalise_code
from domain.registration import Registration
from domain.teams import MAX_TEAM_SIZE, Member
from domain.time import SHANGHAI
from ledger.blobs import BlobStore
from ledger.vault import Vault
from services import identity
from services.strict_files import (
    FileInvalid,
    Strict,
    described,
    problems_of,
    read_capped,
    read_yaml,
    utf8,
    validated,
)
from services.uploads import read_pdfs

CSV_LIMIT = 16 * 1024 * 1024
NAME_LENGTH = 200


def _name(value: str) -> str:
    hidden = hidden_character(value)
    if hidden:
        raise ValueError(f"contains {hidden}, a character that cannot be seen or reorders text")
    if not name_key(value):
        raise ValueError("blank")
    return value.strip()


def _time(value: Any) -> Any:
    """Times are ISO 8601 (YAML's own or quoted); no offset means Asia/Shanghai."""
    if isinstance(value, str):
        try:
            if not re.search(r"\d[T ]\d", value):
                raise ValueError(value)  # a date alone is not a time
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 time such as 2026-06-26T00:00:00+08:00") from None
    if not isinstance(value, datetime):
        raise ValueError(f"expected a time, got {described(value)}")
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _organisation_code(value: str) -> str | None:
    try:
        return normalise_code(identity.folded(value))
    except (OrganisationCodeInvalid, ValueError):
        raise ValueError(
            "a unified social credit code has 18 letters and digits and a valid check "
            "character (GB 32100-2015)"
        ) from None


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Name = Annotated[str, StringConstraints(max_length=NAME_LENGTH), AfterValidator(_name)]
# An e-mail address as people write them; the mail relay is the real check.
Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AfterValidator(_name),
]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Count = Annotated[int, Field(gt=0)]
Time = Annotated[datetime, BeforeValidator(_time)]
OrganisationCode = Annotated[
    str, StringConstraints(max_length=64), AfterValidator(_organisation_code)
]


# --- contest.yaml ----------------------------------------------------------------------------


class Names(Strict):
    zh: Name
    en: Name


class GroupSpec(Strict):
    id: Ident
    name: Names


class TrackSpec(Strict):
    id: Count
    name: Names
    image_roles: list[Ident]
    groups: list[Ident]


class CalendarSpec(Strict):
    registration_deadline: Time
    modification_deadline: Time
    preliminary_start: Time
    preliminary_end: Time
    final_start: Time
    final_end: Time
    review_sla_days: Count
    appeal_window_days: Count


class QuotaSpec(Strict):
    per_day_per_track: Count
    total_per_track: Count


class ContestSpec(Strict):
    slug: Ident
    name: Names
    groups: list[GroupSpec]
    tracks: list[TrackSpec]
    calendar: CalendarSpec
    quota: QuotaSpec


@dataclass(frozen=True)
class ContestFile:
    slug: str
    name: dict[str, str]
    groups: list[dict[str, Any]]
    tracks: list[dict[str, Any]]
    calendar: Calendar
    quota: Quota

    def create(self, app: Registration, *, actor: Actor, now: datetime) -> UUID:
        return app.create_contest(
            slug=self.slug,
            name=self.name,
            groups=self.groups,
            tracks=self.tracks,
            calendar=self.calendar,
            quota=self.quota,
            actor=actor,
            now=now,
        )


def load_contest(path: Path) -> ContestFile:
    spec = validated(path, ContestSpec, read_yaml(path))
    times = spec.calendar.model_dump(exclude={"review_sla_days", "appeal_window_days"})
    return ContestFile(
        slug=spec.slug,
        name=spec.name.model_dump(),
        groups=[group.model_dump() for group in spec.groups],
        tracks=[track.model_dump() for track in spec.tracks],
        calendar=Calendar(
            **times,
            review_sla_days=spec.calendar.review_sla_days,
            appeal_window_days=spec.calendar.appeal_window_days,
        ),
        quota=Quota(per_day=spec.quota.per_day_per_track, total=spec.quota.total_per_track),
    )


# --- team.yaml -------------------------------------------------------------------------------


class IdentitySpec(Strict):
    """``{type: id_card, number}`` or ``{type: passport, country, number}``, normalised."""

    type: Literal["id_card", "passport"]
    country: Annotated[str, StringConstraints(max_length=64)] | None = None
    number: Annotated[str, StringConstraints(max_length=64)]

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else identity.country_alpha3(value)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        if kind == identity.ID_CARD:
            return identity.id_card_number(value)
        if kind == identity.PASSPORT:
            return identity.passport_number(value)
        return value

    @model_validator(mode="after")
    def _document(self) -> IdentitySpec:
        if self.type == identity.ID_CARD and self.country is not None:
            raise ValueError("a resident ID card names no country; remove country")
        if self.type == identity.PASSPORT and self.country is None:
            raise ValueError("a passport names its issuing country (country: SE or SWE)")
        if self.country == identity.DOMESTIC_COUNTRY:
            raise ValueError(
                "a Chinese citizen identifies by the resident ID card (type: id_card), "
                "not by a passport"
            )
        return self

    @property
    def text(self) -> str:
        """The canonical text whose keyed hash identifies the person across teams."""
        return identity.identity_text(self.type, self.number, self.country)


class MemberSpec(Strict):
    """One person's own record: the leader's in the team file, each member's in the file
    they accept their invitation with. Nobody writes another person's identity document."""

    name: Name
    identity: IdentitySpec
    organisation: Name
    organisation_code: OrganisationCode | None = None
    phone: Name | None = None
    email: Name | None = None
    status: Name | None = None


class EmailSpec(Strict):
    email: Email


class ContactSpec(Strict):
    """What a person gives when opening their own account (sealed, never in an event)."""

    name: Name
    email: Email
    phone: Name | None = None


class TrackEntrySpec(Strict):
    track: Count
    group: Ident


class DocumentsSpec(Strict):
    identity_proof: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]],
        BeforeValidator(_as_list),
    ] = Field(default_factory=list)

    @field_validator("identity_proof")
    @classmethod
    def _inside_the_folder(cls, paths: list[str], info: ValidationInfo) -> list[str]:
        """Documents lie beside the team file: a path may not climb out of its folder."""
        folder = Path((info.context or {}).get("folder", ".")).resolve()
        for path in paths:
            if not (folder / path).resolve().is_relative_to(folder):
                raise ValueError(f"{shown(path)} is outside the team file's folder")
        return paths


class TeamSpec(Strict):
    contest: Ident
    name: Name
    language: Literal["zh", "en"] | None = None
    leader: MemberSpec
    invite: list[Email] = Field(default_factory=list, max_length=MAX_TEAM_SIZE - 1)
    tracks: list[TrackEntrySpec] = Field(default_factory=list)
    documents: DocumentsSpec = Field(default_factory=DocumentsSpec)


@dataclass(frozen=True)
class TeamFile:
    path: Path
    contest: str
    name: str
    language: str | None
    leader: MemberSpec
    invite: list[str]
    tracks: tuple[tuple[int, str], ...]
    identity_proof: list[Path]


def load_team(path: Path) -> TeamFile:
    folder = Path(path).parent
    spec = validated(path, TeamSpec, read_yaml(path), context={"folder": folder})
    return TeamFile(
        path=Path(path),
        contest=spec.contest,
        name=spec.name,
        language=spec.language,
        leader=spec.leader,
        invite=list(spec.invite),
        tracks=tuple((entry.track, entry.group) for entry in spec.tracks),
        identity_proof=[folder / proof for proof in spec.documents.identity_proof],
    )


@contextmanager
def discarded_on_refusal(blobs: BlobStore) -> Iterator[list[str]]:
    """Collects the digests of the blobs sealed inside the block; when the block raises (a
    refusal, an error), they are discarded, so a refused command leaves nothing behind."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for digest in written:
            blobs.discard(digest)
        raise


def load_member(path: Path) -> MemberSpec:
    """The file a person accepts an invitation with: their own record."""
    return validated(path, MemberSpec, read_yaml(path))


def seal_member(
    entry: MemberSpec,
    team_id: UUID,
    *,
    contest_id: UUID,
    vault: Vault,
    blobs: BlobStore,
    written: list[str],
) -> Member:
    """One person's record, normalised as checked, sealed under the team's key; the digest
    is added to ``written`` once stored. The identity number is hashed under the contest's
    identity secret (ledger/vault.py)."""
    record = entry.model_dump(mode="json", exclude_none=True)
    sealed = vault.seal_to(
        blobs, team_id, json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
    )
    written.append(sealed)
    return Member(
        identity_key=vault.identity_hash(contest_id, entry.identity.text),
        record=sealed,
        organisation=entry.organisation,
        organisation_code=entry.organisation_code,
    )


def seal_identity_proof(
    paths: list[Path], team_id: UUID, *, vault: Vault, blobs: BlobStore, written: list[str]
) -> dict[str, Any]:
    """Merges the team's PDFs into the one file the rules ask for, and seals it."""
    merged = read_pdfs(paths, name="identity_proof.pdf")
    sealed = vault.seal_to(blobs, team_id, merged.data)
    written.append(sealed)
    return {"ciphertext": sealed, "size": merged.size, "pages": merged.pages}


def register_team(
    app: Registration,
    team: TeamFile,
    *,
    vault: Vault,
    blobs: BlobStore,
    actor: Actor,
    now: datetime,
) -> UUID:
    """Seals, then registers; a refused registration shreds its key and sealed blobs."""
    contest = app.contest_by_slug(team.contest)
    team_id = uuid4()
    vault.create_key(team_id)
    try:
        with discarded_on_refusal(blobs) as written:
            sealed = {"vault": vault, "blobs": blobs, "written": written}
            leader = seal_member(team.leader, team_id, contest_id=contest.id, **sealed)
            proof = None
            if team.identity_proof:
                proof = seal_identity_proof(team.identity_proof, team_id, **sealed)
            return app.register_team(
                contest.id,
                team_id=team_id,
                name=team.name,
                language=team.language,
                leader=leader,
                tracks=team.tracks,
                identity_proof=proof,
                actor=actor,
                now=now,
            )
    except BaseException:
        vault.destroy_key(team_id)
        raise


def email_key(vault: Vault, contest_id: UUID, email: str) -> str:
    """The keyed hash an invitation records: the address itself is personal data."""
    return vault.identity_hash(contest_id, f"email:{email.strip().lower()}")


def invite(
    app: Registration,
    team_id: UUID,
    email: str,
    *,
    vault: Vault,
    outbox: Path,
    actor: Actor,
    now: datetime,
) -> Path:
    """Records the invitation by the token's hash and puts the e-mail that carries the token
    in the outbox (the mail relay's spool); returns the message's path."""
    token = secrets.token_urlsafe(32)
    invitation = app.invite(
        team_id,
        token_hash=token_hash(token),
        email_key=email_key(vault, app.team(team_id).contest_id, email),
        actor=actor,
        now=now,
    )
    outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    message = outbox / f"{invitation}.txt"
    fd = os.open(message, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(
            f"To: {email}\nSubject: huiyan: an invitation to join a team\n\n"
            f"token: {token}\n\nSign in with your own account, then accept with your own "
            f"record and identity document:\n"
            f"  huiyan team accept --token {token} --file member.yaml\n"
        )
    return message


def invitation_token(message: Path) -> str:
    """The token an invitation e-mail carries, as its reader finds it."""
    found = re.search(r"^token: (\S+)$", message.read_text(), re.MULTILINE)
    if found is None:
        raise ValueError(f"{message} carries no invitation token")
    return found.group(1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def accept(
    app: Registration,
    token: str,
    member: MemberSpec,
    *,
    vault: Vault,
    blobs: BlobStore,
    actor: Actor,
    now: datetime,
) -> UUID:
    """Seals the person's record under their new team's key and joins them; a refusal
    discards what was sealed."""
    hashed = token_hash(token)
    team_id = app.invitation(hashed).team_id
    contest_id = app.team(team_id).contest_id
    with discarded_on_refusal(blobs) as written:
        joining = seal_member(
            member, team_id, contest_id=contest_id, vault=vault, blobs=blobs, written=written
        )
        return app.accept(token_hash=hashed, member=joining, actor=actor, now=now)


# --- blacklist CSV ---------------------------------------------------------------------------

NAME_HEADERS = ("organisation", "name", "机构名称", "单位名称")
CODE_HEADERS = ("credit_code", "code", "统一社会信用代码")


class BlacklistRow(Strict):
    name: Name
    code: OrganisationCode | None = None


@dataclass(frozen=True)
class BlacklistFile:
    sha256: str
    data: bytes
    entries: list[dict[str, str | None]]


def load_blacklist(path: Path) -> BlacklistFile:
    return parse_blacklist(read_capped(path, CSV_LIMIT), path)


def parse_blacklist(data: bytes, path: Path | str) -> BlacklistFile:
    """A list file's bytes checked and parsed (``path`` names it in the problems)."""
    text = utf8(Path(path), data)
    try:
        entries = _blacklist_entries(path, text)
    except csv.Error as error:
        raise FileInvalid(path, "(file)", f"not CSV: {error}") from None
    return BlacklistFile(sha256=hashlib.sha256(data).hexdigest(), data=data, entries=entries)


def blacklist_reader(blobs: BlobStore) -> Callable[[str], list[dict[str, str | None]]]:
    """The desk's :class:`domain.blacklist.ListReader`: a list's entries by the SHA-256 of its
    file in the blob store. A missing or altered file raises ``BlobError`` (a LookupError),
    an unparsable one ``FileInvalid`` (a ValueError); the desk names either as
    ``BlacklistUnreadable``."""

    def entries_of(sha256: str) -> list[dict[str, str | None]]:
        return parse_blacklist(blobs.get(sha256), f"blob {sha256}").entries

    return entries_of


def _blacklist_entries(path: Path | str, text: str) -> list[dict[str, str | None]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = reader.fieldnames or []
    name_header = next((h for h in headers if h.strip() in NAME_HEADERS), None)
    code_header = next((h for h in headers if h.strip() in CODE_HEADERS), None)
    if name_header is None:
        raise FileInvalid(path, "header", f"needs a column named one of {NAME_HEADERS}")
    columns = {"name": name_header, "code": code_header}
    entries, problems = [], []
    for row in reader:
        line = f"line {reader.line_num}"
        if None in row:
            problems.append((line, f"more fields than the {len(headers)} of the header"))
            continue
        code = (row.get(code_header) or "").strip() if code_header else ""
        fields = {"name": row.get(name_header) or "", "code": code or None}
        try:
            entries.append(BlacklistRow.model_validate(fields).model_dump())
        except ValidationError as error:
            problems += [
                (f"{line}.{columns[str(loc[0])] if loc else ''}", problem)
                for loc, problem in problems_of(error)
            ]
    if problems:
        raise FileInvalid.listing(path, problems)
    return entries


def listed_on(value: str | None, now: datetime) -> str:
    """The list's own date (as published); the import day when the organiser gives none."""
    if value is None:
        return now.astimezone(SHANGHAI).date().isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise FileInvalid("--listed-on", "date", f"not YYYY-MM-DD: {value!r}") from None
