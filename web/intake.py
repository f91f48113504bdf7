"""The organiser's files (contest.yaml, team.yaml, blacklist CSV) turned into domain commands.

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
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import yaml

from domain.accounts import Actor
from domain.contest import Calendar, Quota
from domain.registration import Registration
from domain.teams import Member
from domain.time import SHANGHAI
from ledger.blobs import BlobStore
from ledger.vault import Vault
from web.uploads import merge_pdfs


class FileInvalid(ValueError):
    """A file cannot be read as the format it claims; the message names the file and field."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        super().__init__(f"{path}: {field}: {problem}")


IDENTITY_TYPES = ("id_card", "passport")
_ID_CARD = re.compile(r"\d{17}[\dX]")


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FileInvalid(path, "(file)", str(error)) from None
    if not isinstance(document, dict):
        raise FileInvalid(path, "(file)", "expected a mapping at the top")
    return document


def _time(path: Path, field: str, value: Any) -> datetime:
    """Times in contest files are Asia/Shanghai unless they carry their own offset."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise FileInvalid(path, field, f"not an ISO 8601 time: {value!r}") from None
    if not isinstance(value, datetime):
        raise FileInvalid(path, field, f"not a time: {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _field(path: Path, document: dict[str, Any], field: str) -> Any:
    if field not in document:
        raise FileInvalid(path, field, "missing")
    return document[field]


# --- contest.yaml ----------------------------------------------------------------------------


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


CALENDAR_TIMES = (
    "registration_deadline",
    "modification_deadline",
    "preliminary_start",
    "preliminary_end",
    "final_start",
    "final_end",
)


def load_contest(path: Path) -> ContestFile:
    document = read_yaml(path)
    calendar = _field(path, document, "calendar")
    quota = _field(path, document, "quota")
    if not isinstance(calendar, dict) or not isinstance(quota, dict):
        raise FileInvalid(path, "calendar/quota", "expected mappings")
    times = {
        name: _time(path, f"calendar.{name}", _field(path, calendar, name))
        for name in CALENDAR_TIMES
    }
    return ContestFile(
        slug=str(_field(path, document, "slug")),
        name=_field(path, document, "name"),
        groups=_field(path, document, "groups"),
        tracks=_field(path, document, "tracks"),
        calendar=Calendar(
            **times,
            review_sla_days=_field(path, calendar, "review_sla_days"),
            appeal_window_days=_field(path, calendar, "appeal_window_days"),
        ),
        quota=Quota(
            per_day=_field(path, quota, "per_day_per_track"),
            total=_field(path, quota, "total_per_track"),
        ),
    )


# --- team.yaml -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamFile:
    path: Path
    contest: str
    name: str
    language: str | None
    members: list[dict[str, Any]]
    tracks: tuple[tuple[int, str], ...]
    identity_proof: list[Path]


def load_team(path: Path) -> TeamFile:
    document = read_yaml(path)
    members = _field(path, document, "members")
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise FileInvalid(path, "members", "expected a list of mappings")
    for position, entry in enumerate(members, start=1):
        _identity_text(path, f"members[{position}]", entry)
    tracks = []
    for index, entry in enumerate(document.get("tracks") or []):
        if not isinstance(entry, dict) or "track" not in entry or "group" not in entry:
            raise FileInvalid(path, f"tracks[{index}]", "expected {track: N, group: ID}")
        tracks.append((int(entry["track"]), str(entry["group"])))
    proofs = (document.get("documents") or {}).get("identity_proof") or []
    if isinstance(proofs, str):
        proofs = [proofs]
    return TeamFile(
        path=Path(path),
        contest=str(_field(path, document, "contest")),
        name=str(_field(path, document, "name")),
        language=document.get("language"),
        members=members,
        tracks=tuple(tracks),
        identity_proof=[Path(path).parent / proof for proof in proofs],
    )


def _identity_text(path: Path, field: str, entry: dict[str, Any]) -> str:
    """The canonical text whose keyed hash identifies a person across teams."""
    identity = entry.get("identity")
    if not isinstance(identity, dict):
        raise FileInvalid(path, f"{field}.identity", "expected {type, number}")
    kind = identity.get("type")
    number = re.sub(r"\s", "", str(identity.get("number") or "")).upper()
    if kind == "id_card":
        if not _ID_CARD.fullmatch(number):
            raise FileInvalid(path, f"{field}.identity.number", "an ID card number has 18 chars")
        return f"id_card:{number}"
    if kind == "passport":
        country = str(identity.get("country") or "").upper()
        if not re.fullmatch(r"[A-Z]{3}|[A-Z]{2}", country) or not number:
            raise FileInvalid(path, f"{field}.identity", "a passport needs country and number")
        return f"passport:{country}:{number}"
    raise FileInvalid(path, f"{field}.identity.type", f"one of {', '.join(IDENTITY_TYPES)}")


def seal_members(team: TeamFile, team_id: UUID, *, vault: Vault, blobs: BlobStore) -> list[Member]:
    members = []
    for position, entry in enumerate(team.members, start=1):
        identity = _identity_text(team.path, f"members[{position}]", entry)
        record = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str).encode()
        members.append(
            Member(
                identity_key=vault.keyed_hash(identity),
                record=vault.seal_to(blobs, team_id, record),
                organisation=str(entry.get("organisation") or ""),
                organisation_code=entry.get("organisation_code"),
                leader=bool(entry.get("leader", False)),
            )
        )
    return members


def seal_identity_proof(
    paths: list[Path], team_id: UUID, *, vault: Vault, blobs: BlobStore
) -> dict[str, Any]:
    """Merges the team's PDFs into the one file the rules ask for, and seals it."""
    parts = []
    for path in paths:
        try:
            parts.append((path.name, path.read_bytes()))
        except OSError as error:
            raise FileInvalid(path, "(file)", error.strerror or str(error)) from None
    merged = merge_pdfs(parts, name="identity_proof.pdf")
    return {
        "ciphertext": vault.seal_to(blobs, team_id, merged.data),
        "size": merged.size,
        "pages": merged.pages,
    }


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
    written: list[str] = []
    try:
        members = seal_members(team, team_id, vault=vault, blobs=blobs)
        written += [member.record for member in members]
        proof = None
        if team.identity_proof:
            proof = seal_identity_proof(team.identity_proof, team_id, vault=vault, blobs=blobs)
            written.append(proof["ciphertext"])
        return app.register_team(
            contest.id,
            team_id=team_id,
            name=team.name,
            language=team.language,
            members=members,
            tracks=team.tracks,
            identity_proof=proof,
            actor=actor,
            now=now,
        )
    except BaseException:
        vault.destroy_key(team_id)
        for digest in written:
            blobs.discard(digest)
        raise


# --- blacklist CSV ---------------------------------------------------------------------------

NAME_HEADERS = ("organisation", "name", "机构名称", "单位名称")
CODE_HEADERS = ("credit_code", "code", "统一社会信用代码")


@dataclass(frozen=True)
class BlacklistFile:
    sha256: str
    data: bytes
    entries: list[dict[str, str | None]]


def load_blacklist(path: Path) -> BlacklistFile:
    try:
        data = Path(path).read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise FileInvalid(path, "(file)", f"not a readable UTF-8 CSV: {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    headers = reader.fieldnames or []
    name_header = next((h for h in headers if h.strip() in NAME_HEADERS), None)
    code_header = next((h for h in headers if h.strip() in CODE_HEADERS), None)
    if name_header is None:
        raise FileInvalid(path, "header", f"needs a column named one of {NAME_HEADERS}")
    entries = [
        {
            "name": (row.get(name_header) or "").strip(),
            "code": (row.get(code_header) or "").strip() or None if code_header else None,
        }
        for row in reader
    ]
    return BlacklistFile(sha256=hashlib.sha256(data).hexdigest(), data=data, entries=entries)


def listed_on(value: str | None, now: datetime) -> str:
    """The list's own date (as published); the import day when the organiser gives none."""
    if value is None:
        return now.astimezone(SHANGHAI).date().isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise FileInvalid("--listed-on", "date", f"not YYYY-MM-DD: {value!r}") from None
