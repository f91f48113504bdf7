"""The side of retention that touches keys and files (docs/audit.md): where each stored kind
lies, the retention periods of the rules in force, what a contest's closing step destroys,
(the acting person's signer, from services/desk.py, asks for the password once for the
several decisions of one run).

The domain (domain/retention_desk.py) decides and records; this module reads the hashes off
the key files and the stores before the decision, and destroys after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

from domain.contest import Contest
from domain.retention import STORE_KINDS, store_due
from domain.retention_desk import RetentionDesk, Shredding
from ledger.blobs import BlobError
from ledger.settings import Settings
from ledger.vault import VaultError
from scoring.rules import RetentionRules, RulesInvalid, parse_rules
from services.desk import Desk
from workers.jobs import predictions_folder
from workers.models import model_store, remove_tree, testset_store

CLOSING_REASON = "the contest closed"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class RetentionUnknown(LookupError):
    """The contest's rules in force give no retention periods (none published, or a document
    from before the retention section)."""


# --- the stores ---------------------------------------------------------------------------------


def store_path(settings: Settings, kind: str, digest: str) -> Path:
    if not _DIGEST.fullmatch(digest):
        raise BlobError(f"{digest!r} is not a SHA-256 hex digest")
    if kind == "models":
        return model_store(settings).path(digest)
    if kind == "testsets":
        return testset_store(settings).path(digest)
    if kind == "predictions":
        return predictions_folder(settings, digest)
    raise ValueError(f"no store of {kind}")


def retention_rules(desk: Desk, contest_id: UUID) -> RetentionRules:
    """The retention section of the rules in force (the latest published version)."""
    versions = desk.app.rules(contest_id).versions
    if not versions:
        raise RetentionUnknown("no rules are published, so no retention period either")
    version = versions[-1]
    try:
        return parse_rules(desk.blobs.get(version["blob"])).retention
    except (RulesInvalid, BlobError) as error:
        raise RetentionUnknown(
            f"the rules in force (version {version['version']}) give no retention periods: {error}"
        ) from None


def due_kinds(desk: Desk, rd: RetentionDesk, contest: Contest, now: datetime) -> set[str]:
    """The stored kinds of a contest whose retention has run (the contest closed, and the
    period since its final end is over)."""
    if rd.closing_problem(contest.id, now) is not None:
        return set()
    try:
        periods = retention_rules(desk, contest.id)
    except RetentionUnknown:
        return set()
    return {k for k in STORE_KINDS if now >= store_due(contest.calendar, periods.days(k))}


# --- a contest's closing step -------------------------------------------------------------------


@dataclass
class Closing:
    """What the closing step destroys of one closed contest, and what stays (``notes``)."""

    contest: Contest
    shredding: Shredding
    notes: list[str] = field(default_factory=list)
    again: list[UUID] = field(default_factory=list)  # recorded teams whose key is back


def closing(
    desk: Desk,
    rd: RetentionDesk,
    contest: Contest,
    now: datetime,
    keep: Mapping[str, set[str]],
) -> Closing:
    """Every team key and the identity secret not destroyed yet, and every stored file whose
    period has run, except those in ``keep`` (another contest still holds the same bytes)."""
    record, vault = rd.retention(contest.id), desk.vault
    teams: dict[UUID, str | None] = {}
    again = []
    for team in rd.teams_of(contest.id):
        if team.id not in record.teams:
            teams[team.id] = vault.key_sha256(team.id)
        elif vault.has_key(team.id):  # a key brought back from a backup
            again.append(team.id)
    notes: list[str] = []
    secret = record.secret is None
    if secret:
        try:
            vault.require_identity_secret_shreddable(contest.id)
        except VaultError as kept:  # one secret for logins too: the rest still goes
            secret = False
            notes.append(f"identity secret kept: {kept}")
    stores: dict[str, tuple[list[str], list[str]]] = {}
    days: dict[str, int] = {}
    try:
        periods = retention_rules(desk, contest.id)
    except RetentionUnknown as unknown:
        notes.append(f"every stored file kept: {unknown}")
    else:
        stored = rd.stored(contest.id)
        for kind in STORE_KINDS:
            days[kind] = periods.days(kind)
            due = store_due(contest.calendar, days[kind])
            if now < due:
                notes.append(f"{kind} kept until {due.isoformat()}")
                continue
            shared = stored[kind] & keep.get(kind, set())
            if shared:
                notes.append(f"{len(shared)} of the {kind} kept: another contest still needs them")
            todo = sorted(stored[kind] - record.shredded(kind) - shared)
            present = [d for d in todo if store_path(desk.settings, kind, d).exists()]
            if todo:
                stores[kind] = (present, [d for d in todo if d not in present])
    shredding = Shredding(
        teams=teams,
        secret=secret,
        secret_sha256=vault.identity_secret_sha256(contest.id) if secret else None,
        stores=stores,
        retention_days=days,
        reason=CLOSING_REASON,
    )
    return Closing(contest, shredding, notes, again)


def destroy(desk: Desk, contest: Contest, shredding: Shredding) -> None:
    """Destroys what a prepared (signed, not yet recorded) shredding names."""
    for team_id in shredding.teams:
        desk.vault.shred_key(team_id)
    if shredding.secret:
        desk.vault.shred_identity_secret(contest.id)
    for kind, (present, _) in shredding.stores.items():
        for digest in present:
            remove_tree(store_path(desk.settings, kind, digest))


def said(contest: Contest, shredding: Shredding) -> list[str]:
    """What a recorded shredding did, one line each."""
    lines = [
        f"{contest.slug}: team {team_id}: key shredded (key file {sha or 'absent'})"
        for team_id, sha in shredding.teams.items()
    ]
    if shredding.secret:
        made = shredding.secret_sha256 or "never made"
        lines.append(f"{contest.slug}: identity secret shredded ({made})")
    for kind, (present, missing) in shredding.stores.items():
        lines.append(
            f"{contest.slug}: {kind}: {len(present)} removed, {len(missing)} already absent"
        )
    return lines
