"""Audit bundles: a matter's record (a team's, an appeal's) or the whole ledger, in one zip
that anyone can check offline with ``huiyan-verify`` (audit/verify.py); docs/audit.md.

The bundle carries the events exactly as stored (every column the ledger signs or re-derives),
the signed checkpoints with consistency proofs between consecutive ones, the ledger's public
keys and their windows, the personal keys the events enrol, and, for a matter, an inclusion
proof of each entry against the newest checkpoint (a whole ledger needs none: its roots are
re-derived from every leaf, and its chain checks end to end). A matter also carries what a
verifier needs to check it alone: the ledger's first entry (its key is the first key), the key
history (the windows come from it) and the accounts of everyone who signed one of its
decisions (their events enrol the keys those signatures are checked with).

The format (``huiyan-audit-bundle/v1``) is what audit/verify.py reads; the two share no code
on purpose, so the tests make one and check it with the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from audit.bundle_report import ReportLine, line_of, report_html, report_pdf
from audit.signatures import decoded_state
from domain.accounts import Actor
from domain.signatures import FIELD
from ledger.checkpoint import SignedCheckpoint
from ledger.key_history import KeyHistory
from ledger.ledger import Ledger, LedgerError
from ledger.merkle import ProofError, verify_inclusion
from ledger.rows import Entry, RowError, rows_at
from ledger.verify import key_lifecycle

FORMAT = "huiyan-audit-bundle/v1"
SCOPES = ("team", "appeal", "all")
PAGE = 1024  # rows read per query for a whole ledger
_PERSONAL = b'"personal_'
_KEY_FIELD = "personal_public_key"


@dataclass(frozen=True)
class Scope:
    """What a bundle holds: a matter's aggregates, or every entry (``all``)."""

    kind: str
    subject: UUID | None = None
    aggregates: tuple[UUID, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SCOPES or (self.kind == "all") != (self.subject is None):
            raise ValueError(f"a scope is {', '.join(SCOPES)}; all alone has no subject")

    @property
    def label(self) -> str:
        """The subject as the access log names it."""
        return str(self.subject) if self.subject is not None else "all"


@dataclass(frozen=True)
class Exported:
    entries: int
    tree_size: int
    signatures: int


def write_bundle(
    ledger: Ledger,
    scope: Scope,
    head: SignedCheckpoint,
    out: Path,
    *,
    exporter: Actor,
    now: datetime,
    documents: Mapping[str, bytes] | None = None,
) -> Exported:
    """Write the bundle of ``scope`` against the checkpoint ``head`` to ``out`` (through a
    temporary file beside it, so that a failed export leaves nothing behind). ``documents``
    are personal files by bundle name (``documents/<sealed sha256>.<ext>``)."""
    size = head.checkpoint.tree_size
    checkpoints = _checkpoints(ledger, head)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        with _Archive(partial, now) as archive:
            facts = _write_entries(archive, ledger, scope, size)
            if scope.kind != "all":
                _write_proofs(archive, ledger, facts.leaves, head)
            _write_checkpoints(archive, ledger, checkpoints)
            _write_keys(archive, ledger, facts.personal_keys)
            for name, data in sorted((documents or {}).items()):
                archive.write(name, data)
            about = _about(scope, head, exporter, now, facts, sorted(documents or ()))
            archive.write("bundle.json", _json_file(about))
            header = {**about, "root_hash": head.checkpoint.root_hash.hex()}
            archive.write("report/report.html", report_html(header, facts.lines))
            archive.write("report/report.pdf", report_pdf(header, facts.lines))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return Exported(facts.entries, size, facts.signatures)


# --- which entries ------------------------------------------------------------------------------


def matter_entries(ledger: Ledger, aggregates: Iterable[UUID], size: int) -> list[Entry]:
    """The matter's entries below ``size``, with the ledger's first entry, its key history and
    the accounts of everyone who signed a decision among them."""
    ids = {*aggregates, KeyHistory.create_id(ledger.keyring.name)}
    while True:
        found = [entry for entry in ledger.entries_of(ids) if entry.position < size]
        signers = {signer for entry in found for signer in _signers(entry)} - ids
        if not signers:
            break
        ids |= signers
    by_position = {entry.position: entry for entry in found}
    by_position.setdefault(0, ledger.entry(0))
    return [by_position[position] for position in sorted(by_position)]


def _all_entries(ledger: Ledger, size: int) -> Iterator[Entry]:
    with ledger.engine.connect() as conn:
        for start in range(0, size, PAGE):
            for row in rows_at(conn, ledger.events_table, start, min(start + PAGE, size)):
                try:
                    yield Entry.of(row)
                except RowError as error:
                    raise LedgerError(
                        f"the entry at position {row[0]} has {error}: run `huiyan ledger verify`"
                    ) from None


def _state(entry: Entry) -> dict[str, Any] | None:
    try:
        state = decoded_state(entry.state)
    except (ValueError, TypeError, KeyError):
        return None
    return state if isinstance(state, dict) else None


def _signers(entry: Entry) -> set[UUID]:
    if b'"personal_signature"' not in entry.state:
        return set()
    record = (_state(entry) or {}).get(FIELD)
    manifest = record.get("manifest") if isinstance(record, dict) else None
    try:
        return {UUID(str(manifest["signer"]))} if isinstance(manifest, dict) else set()
    except (KeyError, ValueError):
        return set()


# --- writing ------------------------------------------------------------------------------------


class _Archive:
    """A zip written member by member, each member's SHA-256 kept for the manifest, which is
    written last."""

    def __init__(self, path: Path, now: datetime) -> None:
        self.zip = zipfile.ZipFile(path, "w")
        self.hashes: dict[str, str] = {}
        self.when = now.timetuple()[:6]

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            manifest = {"format": FORMAT, "files": self.hashes}
            text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
            self.zip.writestr(self._info("manifest.json"), text.encode())
        self.zip.close()

    def write(self, name: str, data: bytes) -> None:
        with self.stream(name) as write:
            write(data)

    @contextmanager
    def stream(self, name: str) -> Iterator[Callable[[bytes], None]]:
        digest = hashlib.sha256()
        with self.zip.open(self._info(name), "w", force_zip64=True) as member:

            def write(data: bytes) -> None:
                digest.update(data)
                member.write(data)

            yield write
        self.hashes[name] = digest.hexdigest()

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.when)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info


@dataclass
class _Facts:
    """What writing the entries learnt on the way: for the proofs (a matter's leaves; a whole
    ledger needs none, and is not held in memory), the keys, the report and the counts."""

    leaves: list[tuple[int, bytes]] = field(default_factory=list)
    lines: list[ReportLine] = field(default_factory=list)
    personal_keys: list[dict[str, Any]] = field(default_factory=list)
    entries: int = 0
    signatures: int = 0


def _write_entries(archive: _Archive, ledger: Ledger, scope: Scope, size: int) -> _Facts:
    source = _all_entries(ledger, size) if scope.kind == "all" else matter_entries(
        ledger, scope.aggregates, size
    )  # fmt: skip
    facts = _Facts()
    with archive.stream("events.jsonl") as write:
        for entry in source:
            write(_row_line(entry))
            facts.entries += 1
            if scope.kind != "all":
                facts.leaves.append((entry.position, entry.leaf_hash))
            state = _state(entry)
            facts.lines.append(line_of(entry, state))
            if state is None or _PERSONAL not in entry.state:
                continue
            if isinstance(state.get(_KEY_FIELD), str):
                facts.personal_keys.append(
                    {
                        "account": str(entry.originator_id),
                        "position": entry.position,
                        "public_key": state[_KEY_FIELD],
                    }
                )
            facts.signatures += FIELD in state
    return facts


def _row_line(entry: Entry) -> bytes:
    record = {
        "position": entry.position,
        "originator_id": str(entry.originator_id),
        "originator_version": entry.originator_version,
        "topic": entry.topic,
        "state": entry.state.hex(),
        "leaf_hash": entry.leaf_hash.hex(),
        "prev_hash": entry.prev_hash.hex(),
        "key_id": entry.key_id,
        "signature": entry.signature.hex(),
    }
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def _write_proofs(
    archive: _Archive, ledger: Ledger, leaves: list[tuple[int, bytes]], head: SignedCheckpoint
) -> None:
    """Each entry's RFC 9162 path in the head's tree, checked against its signed root first."""
    size, root = head.checkpoint.tree_size, head.checkpoint.root_hash
    ledger.tree.sync()
    with archive.stream("proofs.jsonl") as write:
        for position, leaf in leaves:
            path = ledger.tree.inclusion_proof(position, size)
            try:
                verify_inclusion(leaf, position, size, path, root)
            except ProofError as error:
                raise LedgerError(
                    f"cannot prove the entry at position {position} ({error}): "
                    "run `huiyan ledger verify`"
                ) from None
            hashes = [h.hex() for h in path]
            record = {"position": position, "tree_size": size, "path": hashes}
            write(json.dumps(record, separators=(",", ":")).encode() + b"\n")


def _checkpoints(ledger: Ledger, head: SignedCheckpoint) -> list[SignedCheckpoint]:
    """Every valid stored checkpoint up to the head, one per size, smallest first."""
    by_size: dict[int, SignedCheckpoint] = {}
    for found in [*ledger.checkpoints(), head]:
        size = found.checkpoint.tree_size
        if size > head.checkpoint.tree_size:
            continue
        held = by_size.setdefault(size, found)
        if held.checkpoint.root_hash != found.checkpoint.root_hash:
            raise LedgerError(
                f"two stored checkpoints of size {size} have different roots (a fork): "
                "run `huiyan ledger verify`"
            )
    return [by_size[size] for size in sorted(by_size)]


def _write_checkpoints(archive: _Archive, ledger: Ledger, notes: list[SignedCheckpoint]) -> None:
    proofs = []
    for old, new in zip(notes, notes[1:], strict=False):
        try:
            proof = ledger.consistency_proof(old, new)
        except (ProofError, ValueError) as error:
            raise LedgerError(
                f"the checkpoints of sizes {old.checkpoint.tree_size} and "
                f"{new.checkpoint.tree_size} are not consistent ({error}): "
                "run `huiyan ledger verify`"
            ) from None
        proofs.append(
            {
                "old_size": old.checkpoint.tree_size,
                "new_size": new.checkpoint.tree_size,
                "proof": [h.hex() for h in proof],
            }
        )
    for note in notes:
        archive.write(f"checkpoints/{note.checkpoint.tree_size}.note", note.note.encode())
    archive.write("checkpoints/consistency.json", _json_file(proofs))


def _write_keys(archive: _Archive, ledger: Ledger, personal_keys: list[dict[str, Any]]) -> None:
    keys = ledger.verifier_keys()
    archive.write("keys/ledger.vkeys", "".join(f"{k.encode()}\n" for k in keys.values()).encode())
    with ledger.engine.connect() as conn:
        windows = key_lifecycle(conn, ledger.events_table, keys).as_plain()
    listed = [
        {"key_id": key_id, "first": first, "last": last, "revoked_from": revoked}
        for key_id, (first, last, revoked) in sorted(
            windows.items(), key=lambda item: (item[1][0], item[0])
        )
    ]
    archive.write("keys/windows.json", _json_file(listed))
    archive.write("keys/personal.json", _json_file(personal_keys))


def _about(
    scope: Scope,
    head: SignedCheckpoint,
    exporter: Actor,
    now: datetime,
    facts: _Facts,
    documents: list[str],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "scope": scope.kind,
        "subject": None if scope.subject is None else str(scope.subject),
        "origin": head.checkpoint.origin,
        "tree_size": head.checkpoint.tree_size,
        "entries": facts.entries,
        "personal_signatures": facts.signatures,
        "exported_at": now.isoformat(),
        "exported_by": str(exporter.account_id),
        "role": exporter.role.value,
        "documents": documents,
    }


def _json_file(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
