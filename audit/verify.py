"""``huiyan-verify``: check an audit bundle offline, with nothing of huiyan's installed.

    huiyan-verify BUNDLE.zip [--keys FILE] [--checkpoint FILE]    (at least one of them)

It prints one line, what holds (``bundle intact: N entries, checkpoint size S, K personal
signatures``) or the first place that fails and why, and exits 0 (intact), 1 (fails) or 2
(unusable input: no such file, not a zip archive, a keys or checkpoint file that does not
parse, neither of them given).

**Why it shares no code with huiyan.** It imports only the Python standard library and
``cryptography``, and re-implements from the specifications (docs/ledger.md, docs/merkle.md,
docs/people.md, docs/audit.md; RFC 9162 §2.1; C2SP signed-note and tlog-checkpoint) what it
checks: the entry bytes and leaf hash, the chain, the entry signature, the key windows and
handovers, RFC 9162 inclusion and consistency proofs, the checkpoint note, and the personal
signatures' manifest bytes. A mistake in huiyan's own code therefore cannot hide itself by
being shared with the check, and an auditor can read, copy and run this one file alone
(``python verify.py``): it is one file on purpose. The tests pin it to huiyan's golden
vectors (tests/ledger/golden, tests/ledger/vectors) and run it in a fresh virtual
environment that holds only ``cryptography``.

**What it trusts.** Either the ledger's verifier keys (``--keys``, the lines ``huiyan ledger
keys`` prints), or a checkpoint the auditor kept (``--checkpoint``): then the bundle's keys are
taken once the kept note verifies under one of them and the bundle proves its own checkpoint
consistent with it (every entry up to the kept size is then pinned by the kept root; later keys
must come by handovers the earlier keys signed). The manifest's hashes only say that no file
changed since export: anyone can recompute them, so they are never a trust anchor.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import hashlib
import json
import re
import struct
import sys
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "huiyan-audit-bundle/v1"
SCOPES = ("team", "appeal", "all")

MANIFEST = "manifest.json"
BUNDLE = "bundle.json"
EVENTS = "events.jsonl"
PROOFS = "proofs.jsonl"
CONSISTENCY = "checkpoints/consistency.json"
LEDGER_KEYS = "keys/ledger.vkeys"
WINDOWS = "keys/windows.json"
PERSONAL_KEYS = "keys/personal.json"
REPORTS = ("report/report.html", "report/report.pdf")
NOTE_NAME = re.compile(r"checkpoints/(0|[1-9][0-9]*)\.note")
DOCUMENT_NAME = re.compile(r"documents/([0-9a-f]{64})\.[a-z]{2,4}")

# docs/ledger.md, "The bytes"
ENTRY_PREFIX = b"huiyan-ledger-entry/v1\n"
SIGNATURE_PREFIX = b"huiyan-ledger-sig/v1\n"
HANDOVER_PREFIX = b"huiyan-ledger-handover/v1\n"
HANDOVER_TOPIC = "ledger.key_history:KeyHistory.HandedOver"
REVOKED_TOPIC = "ledger.key_history:KeyHistory.Revoked"
GENESIS = bytes(32)
ED25519 = b"\x01"  # C2SP signed-note signature type

# docs/people.md, "Personal signatures with meaning"
PERSONAL_PREFIX = b"huiyan personal signature v1\n"
PERSONAL_FIELD = "personal_signature"
PERSONAL_KEY_FIELD = "personal_public_key"
MEANINGS = ("approved", "rejected", "scored", "declared", "appealed", "ruled", "published",
            "awarded", "rotated", "shredded")  # fmt: skip
MANIFEST_FIELDS = frozenset(
    ("meaning", "topic", "subject", "version", "fields", "signer", "key_id", "name", "at")
)
BOOKKEEPING = frozenset(
    ("timestamp", "originator_id", "originator_version", "originator_topic", "class_version",
     PERSONAL_FIELD)
)  # fmt: skip

ROW_FIELDS = (
    "position", "originator_id", "originator_version", "topic", "state", "leaf_hash",
    "prev_hash", "key_id", "signature",
)  # fmt: skip
MAX_MEMBER_BYTES = 1 << 31
LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})*")

Window = tuple[int, "int | None", "int | None"]  # first, last (None: active), revoked from


class Unusable(Exception):
    """Input the verifier cannot work with at all (exit 2), as opposed to a bundle that fails."""


class Bad(ValueError):
    """One value that is not what the format says; the message says why."""


@dataclass(frozen=True)
class Problem:
    place: str
    why: str


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)

    def add(self, place: str, why: str) -> None:
        self.problems.append(Problem(place, why))


# --- hashing: RFC 9162 §2.1 and the entry bytes ----------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def entry_bytes(
    position: int, originator: bytes, version: int, topic: bytes, state: bytes
) -> bytes:
    """``prefix ‖ u64 position ‖ 16-byte UUID ‖ u64 version ‖ u32 len ‖ topic ‖ u64 len ‖
    state``, big-endian."""
    head = struct.pack(">Q16sQI", position, originator, version, len(topic))
    return ENTRY_PREFIX + head + topic + struct.pack(">Q", len(state)) + state


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry)


def chain(prev: bytes, leaf: bytes) -> bytes:
    return sha256(b"\x02" + prev + leaf)


class Frontier:
    """The roots of the maximal perfect subtrees of a growing tree, for MTH at any size."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []  # (leaves under it, hash)

    def append(self, leaf: bytes) -> None:
        width, value = 1, leaf
        while self.stack and self.stack[-1][0] == width:
            left = self.stack.pop()[1]
            width, value = width * 2, node(left, value)
        self.stack.append((width, value))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return sha256(b"")
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = node(left, value)
        return value


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises Bad unless ``path`` puts the leaf under ``root``."""
    if not 0 <= index < size:
        raise Bad(f"leaf {index} is not in a tree of size {size}")
    fn, sn, value = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise Bad(f"the proof has {len(path)} hashes, too many for leaf {index} of {size}")
        if fn & 1 or fn == sn:
            value = node(sibling, value)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            value = node(value, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Bad(f"the proof has {len(path)} hashes, too few for leaf {index} of {size}")
    if value != root:
        raise Bad("the inclusion proof does not lead to the checkpoint's root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises Bad unless the old tree is a prefix of the new one."""
    if not 0 < old_size <= new_size:
        raise Bad(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise Bad(f"two checkpoints of size {old_size} do not have one root")
        return
    if not proof:
        raise Bad(f"an empty consistency proof from size {old_size} to {new_size}")
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_value = new_value = path[0]
    for item in path[1:]:
        if sn == 0:
            raise Bad(f"the proof from size {old_size} to {new_size} has too many hashes")
        if fn & 1 or fn == sn:
            old_value, new_value = node(item, old_value), node(item, new_value)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new_value = node(new_value, item)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Bad(f"the proof from size {old_size} to {new_size} has too few hashes")
    if old_value != old_root or new_value != new_root:
        raise Bad(f"the tree of size {old_size} is not a prefix of the tree of size {new_size}")


# --- keys and signed notes (C2SP) -------------------------------------------------------------


@dataclass(frozen=True)
class LedgerKey:
    name: str
    key_id: str
    raw: bytes  # the Ed25519 public key

    @classmethod
    def decode(cls, line: str) -> LedgerKey:
        """A C2SP vkey line, ``<name>+<hex key hash>+<base64(0x01 ‖ public key)>``."""
        parts = line.strip().split("+", 2)
        if len(parts) != 3:
            raise Bad("not a verifier key line (name+id+base64)")
        name, key_id, blob = parts
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise Bad("the key is not base64") from None
        if len(raw) != 33 or raw[:1] != ED25519:
            raise Bad(f"key {key_id} is not an Ed25519 key")
        if sha256(name.encode() + b"\n" + raw)[:4].hex() != key_id:
            raise Bad(f"key {key_id} does not match its name and public key")
        return cls(name, key_id, raw[1:])

    def encode(self) -> str:
        return f"{self.name}+{self.key_id}+{base64.b64encode(ED25519 + self.raw).decode()}"

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def read_keys(lines: Iterable[str]) -> dict[str, LedgerKey]:
    """Verifier key lines as ``huiyan ledger keys`` prints them (blank and # lines skipped)."""
    keys = {}
    for number, line in enumerate(lines, 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                key = LedgerKey.decode(line)
            except Bad as error:
                raise Bad(f"line {number}: {error}") from None
            keys[key.key_id] = key
    return keys


@dataclass(frozen=True)
class Note:
    """A tlog checkpoint: origin, tree size, root, and the id of the key that signed it."""

    origin: str
    size: int
    root: bytes
    key_id: str


def read_note(text: str, keys: dict[str, LedgerKey]) -> Note:
    """Parse a signed note and check its signature with one of ``keys`` (lines by other keys
    are a witness's or another log's and are passed over)."""
    body, separator, signatures = text.partition("\n\n")
    if not separator or not body:
        raise Bad("not a signed note (no blank line before the signatures)")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise Bad("a checkpoint needs origin, tree size and root lines")
    origin, size_text, root_text = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise Bad(f"the tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise Bad("the root hash is not base64") from None
    if len(root) != 32:
        raise Bad(f"the root hash has {len(root)} bytes, not 32")
    signers = []
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise Bad(f"a signature line does not start with an em dash: {line[:40]!r}")
        name, _, blob = line[2:].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise Bad("a signature is not base64") from None
        key = keys.get(raw[:4].hex())
        signers.append(raw[:4].hex())
        if key is None or key.name != name:
            continue
        if not key.verifies(raw[4:], body.encode()):
            raise Bad(f"its signature by key {key.key_id} does not verify")
        return Note(origin, int(size_text), root, key.key_id)
    raise Bad(f"it is not signed by a trusted key (signed by: {', '.join(signers) or 'nobody'})")


# --- key windows (docs/ledger.md, "Keys") ------------------------------------------------------


def key_windows(
    first_key: str | None, key_events: list[Row], keys: dict[str, LedgerKey]
) -> tuple[dict[str, Window], dict[int, str]]:
    """Each key's window of positions, and what is wrong with each faulty handover, by
    position. The first entry's key signs from 0; a handover at r closes the outgoing key's
    window at r - 1 and opens the incoming key's at r; a revocation marks its key from the
    position it names. A handover that the outgoing key did not sign, or not from the active
    key, or not recorded by the incoming key, is faulty (the windows follow it anyway, so that
    one bad event is one problem)."""
    windows: dict[str, list[Any]] = {} if first_key is None else {first_key: [0, None, None]}
    faults: dict[int, str] = {}
    active = first_key
    for row in key_events:
        fields = row.json() or {}
        if row.topic == HANDOVER_TOPIC:
            retired, successor = _text(fields, "retired"), _text(fields, "successor")
            fault = _handover_fault(row, fields, active, keys)
            if fault:
                faults[row.position] = f"bad handover: {fault}"
            for key_id in {active, retired}:
                if key_id in windows and windows[key_id][1] is None:
                    windows[key_id][1] = row.position - 1
            windows[successor] = [row.position, None, None]
            active = successor
        else:
            key_id, start = _text(fields, "key_id"), fields.get("from_position")
            if key_id in windows and isinstance(start, int) and start >= 0:
                current = windows[key_id][2]
                windows[key_id][2] = start if current is None else min(start, current)
    return {key_id: (w[0], w[1], w[2]) for key_id, w in windows.items()}, faults


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def _handover_fault(
    row: Row, fields: dict[str, Any], active: str | None, keys: dict[str, LedgerKey]
) -> str | None:
    retired, successor = _text(fields, "retired"), _text(fields, "successor")
    if retired != active:
        return f"hands over from key {retired or '?'}, but the active key was {active}"
    if row.key_id != successor:
        return f"recorded by key {row.key_id}, not by the incoming key {successor}"
    try:
        incoming = LedgerKey.decode(_text(fields, "successor_key"))
    except Bad:
        return "the incoming key's public key is not a verifier key line"
    if incoming.key_id != successor:
        return f"the incoming public key has id {incoming.key_id}, not {successor}"
    outgoing = keys.get(retired)
    if outgoing is None:
        return f"the outgoing key {retired} is not a trusted key"
    try:
        signature = base64.b64decode(_text(fields, "handover"), validate=True)
    except ValueError:
        signature = b""
    message = HANDOVER_PREFIX + f"{outgoing.name}\n{retired}\n{incoming.encode()}\n".encode()
    if not outgoing.verifies(signature, message):
        return f"the outgoing key {retired} did not sign this handover"
    return None


def window_fault(windows: dict[str, Window], key_id: str, position: int) -> str | None:
    window = windows.get(key_id)
    if window is None:
        return f"key {key_id} was never handed the ledger"
    first, last, revoked_from = window
    if revoked_from is not None and position >= revoked_from:
        return f"key {key_id} is revoked from position {revoked_from}"
    if position < first or (last is not None and position > last):
        return f"key {key_id} signs positions {first}..{'' if last is None else last} only"
    return None


# --- the entries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    position: int
    originator: bytes
    version: int
    topic: str
    state: bytes
    leaf: bytes
    prev: bytes
    key_id: str
    signature: bytes

    @property
    def aggregate(self) -> str:
        return str(uuid.UUID(bytes=self.originator))

    @property
    def place(self) -> str:
        return f"{EVENTS} position {self.position} ({self.topic.rsplit(':', 1)[-1]})"

    def json(self) -> dict[str, Any] | None:
        """The stored state as plain JSON (key events are read so, like huiyan's verify)."""
        try:
            value = json.loads(self.state)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def _lower_hex(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not LOWER_HEX.fullmatch(value):
        raise Bad(f"{what} is not lower-case hex")
    data = bytes.fromhex(value)
    if size is not None and len(data) != size:
        raise Bad(f"{what} has {len(data)} bytes, not {size}")
    return data


def _count(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise Bad(f"{what} is not a whole number")
    return value


def _canonical_uuid(value: Any, what: str) -> bytes:
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise Bad(f"{what} is not a UUID") from None
    if str(parsed) != value:
        raise Bad(f"{what} is not a UUID in its canonical form")
    return parsed.bytes


def row_of(record: Any) -> Row:
    if not isinstance(record, dict) or sorted(record) != sorted(ROW_FIELDS):
        raise Bad(f"a row has exactly the fields {', '.join(ROW_FIELDS)}")
    if not isinstance(record["topic"], str):
        raise Bad("topic is not text")
    if not isinstance(record["key_id"], str) or not re.fullmatch("[0-9a-f]{8}", record["key_id"]):
        raise Bad("key_id is not 8 lower-case hex digits")
    return Row(
        position=_count(record["position"], "position"),
        originator=_canonical_uuid(record["originator_id"], "originator_id"),
        version=_count(record["originator_version"], "originator_version"),
        topic=record["topic"],
        state=_lower_hex(record["state"], "state"),
        leaf=_lower_hex(record["leaf_hash"], "leaf_hash", 32),
        prev=_lower_hex(record["prev_hash"], "prev_hash", 32),
        key_id=record["key_id"],
        signature=_lower_hex(record["signature"], "signature"),
    )


def json_lines(name: str, data: bytes, findings: Findings) -> list[tuple[int, Any]]:
    """(line number, value) of a JSON-lines file; a line that is not JSON is a problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        findings.add(name, "not UTF-8 text")
        return []
    lines = text.split("\n")  # only a newline ends a line (str.splitlines knows eight more)
    if lines.pop() != "":
        findings.add(name, "the last line does not end with a newline")
    values = []
    for number, line in enumerate(lines, 1):
        try:
            values.append((number, json.loads(line)))
        except ValueError:
            findings.add(f"{name} line {number}", "not JSON")
    return values


def _row_place(record: Any, number: int) -> str:
    """A row that does not parse, named by its position and event when those still read."""
    if isinstance(record, dict) and type(record.get("position")) is int:
        topic = record.get("topic")
        event = topic.rsplit(":", 1)[-1] if isinstance(topic, str) else "?"
        return f"{EVENTS} position {record['position']} ({event})"
    return f"{EVENTS} line {number}"


def read_rows(data: bytes, findings: Findings) -> list[Row]:
    rows: list[Row] = []
    for number, record in json_lines(EVENTS, data, findings):
        try:
            row = row_of(record)
        except Bad as error:
            findings.add(_row_place(record, number), str(error))
            continue
        if rows and row.position <= rows[-1].position:
            findings.add(row.place, f"out of order after position {rows[-1].position}")
            continue
        rows.append(row)
    return rows


def check_rows(
    rows: list[Row], size: int, complete: bool, keys: dict[str, LedgerKey], findings: Findings
) -> dict[str, Window]:
    """Each entry's leaf from its bytes, its link where its predecessor is bundled, its key's
    window and its signature; the positions (all of 0..size-1 for a whole ledger, else at least
    position 0, whose key is the ledger's first); each aggregate's versions without a gap.
    Returns the key windows derived from the bundled key events."""
    present = {row.position for row in rows}
    if complete:
        missing = [p for p in range(size) if p not in present]
        if missing:
            findings.add(EVENTS, f"position {missing[0]} is missing ({len(missing)} in all)")
    elif 0 not in present:
        findings.add(EVENTS, "the ledger's first entry (position 0, which names its first key) "
                     "is missing")  # fmt: skip
    first_key = rows[0].key_id if rows and rows[0].position == 0 else None
    key_events = [row for row in rows if row.topic in (HANDOVER_TOPIC, REVOKED_TOPIC)]
    windows, faults = key_windows(first_key, key_events, keys)
    before: Row | None = None
    versions: dict[bytes, int] = {}
    for row in rows:
        _check_row(row, before, size, keys, windows, findings)
        if row.position in faults:
            findings.add(row.place, faults[row.position])
        if versions.get(row.originator, 0) + 1 != row.version:
            findings.add(row.place, f"aggregate {row.aggregate} skips from version "
                         f"{versions.get(row.originator, 0)} to {row.version}")  # fmt: skip
        versions[row.originator] = row.version
        before = row
    return windows


def _check_row(
    row: Row,
    before: Row | None,
    size: int,
    keys: dict[str, LedgerKey],
    windows: dict[str, Window],
    findings: Findings,
) -> None:
    if row.position >= size:
        findings.add(row.place, f"beyond the checkpoint's tree size {size}")
    try:
        entry = entry_bytes(
            row.position, row.originator, row.version, row.topic.encode(), row.state
        )
    except (struct.error, UnicodeEncodeError) as error:
        findings.add(row.place, f"its columns are out of range ({error})")
        return
    if leaf_hash(entry) != row.leaf:
        findings.add(row.place, "its content does not hash to its leaf hash (modified)")
    if row.position == 0 and row.prev != GENESIS:
        findings.add(row.place, "the first entry does not link to 32 zero bytes")
    if before is not None and before.position + 1 == row.position:
        link = chain(before.prev, before.leaf)
        if link != row.prev:
            findings.add(row.place, f"its link does not match the entry at {before.position}")
    fault = window_fault(windows, row.key_id, row.position)
    if fault:
        findings.add(row.place, fault)
    key = keys.get(row.key_id)
    if key is None:
        findings.add(row.place, f"signed by key {row.key_id}, which is not trusted")
    elif not key.verifies(row.signature, SIGNATURE_PREFIX + row.leaf + row.prev):
        findings.add(row.place, f"its signature does not verify with key {row.key_id}")


# --- personal signatures (docs/people.md) -------------------------------------------------------


def _transcoded(value: dict[str, Any]) -> Any:
    """The JSON form huiyan's signatures use for the library's typed values: ids and times as
    text (``domain.signatures.jsonable``), decimals kept as such."""
    if len(value) != 2 or "_type_" not in value or "_data_" not in value:
        return value
    kind, data = value["_type_"], value["_data_"]
    decoders: dict[str, Callable[[Any], Any]] = {
        "uuid_hex": lambda d: str(uuid.UUID(d)),
        "datetime_iso": lambda d: datetime.fromisoformat(d).isoformat(),
        "date_iso": lambda d: date.fromisoformat(d).isoformat(),
        "bytes_hex": lambda d: bytes.fromhex(d).hex(),
        "decimal_str": Decimal,
    }
    if kind not in decoders:
        raise ValueError(f"a value of unknown type {kind!r}")
    return decoders[kind](data)


def decoded_state(state: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(state.decode("utf-8"), object_hook=_transcoded)
    except (ValueError, TypeError, AttributeError, ArithmeticError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class PersonalKeys:
    """Each account's personal keys, each in force after the position that enrolled it."""

    starts: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    keys: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    enrolled: list[dict[str, Any]] = field(default_factory=list)
    signatures: int = 0  # decisions checked

    def enrol(self, account: uuid.UUID, position: int, public_key: str) -> None:
        self.starts.setdefault(account, []).append(position)
        self.keys.setdefault(account, []).append(public_key)
        self.enrolled.append(
            {"account": str(account), "position": position, "public_key": public_key}
        )

    def in_force(self, account: uuid.UUID, position: int) -> str | None:
        index = bisect.bisect_left(self.starts.get(account, []), position) - 1
        return self.keys[account][index] if index >= 0 else None


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """What a person signs: the domain prefix and the manifest's canonical JSON (sorted keys,
    no blanks, UTF-8 as is)."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return PERSONAL_PREFIX + text.encode()


def check_personal(row: Row, state: dict[str, Any], book: PersonalKeys) -> None:
    """Raises Bad unless the event's personal signature signs exactly this event with the
    signer's key in force at its position."""
    record = state.get(PERSONAL_FIELD)
    if record is None:
        raise Bad("the decision was recorded without its maker's signature")
    manifest = record.get("manifest") if isinstance(record, dict) else None
    if not isinstance(manifest, dict) or set(manifest) != MANIFEST_FIELDS:
        raise Bad("the manifest is malformed")
    try:
        signer = uuid.UUID(manifest["signer"])
    except (ValueError, TypeError, AttributeError):
        raise Bad("the signer is not an account id") from None
    public_key = book.in_force(signer, row.position)
    if public_key is None:
        raise Bad("the signer had no personal key at that position")
    try:
        key_id = hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16]
    except ValueError:
        raise Bad("the signer's recorded public key is malformed") from None
    if manifest["key_id"] != key_id:
        raise Bad("it names a key that was not the signer's key then")
    if not isinstance(record, dict) or set(record) != {"manifest", "signature"}:
        raise Bad("the signature record is malformed")
    if manifest["meaning"] not in MEANINGS:
        raise Bad(f"unknown meaning {manifest['meaning']!r}")
    if (manifest["topic"], manifest["subject"], manifest["version"]) != (
        row.topic,
        row.aggregate,
        row.version,
    ):
        raise Bad("it was made for another record")
    if manifest["fields"] != {k: v for k, v in state.items() if k not in BOOKKEEPING}:
        raise Bad("the record differs from what was signed")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(record["signature"]), manifest_bytes(manifest)
        )
    except (InvalidSignature, ValueError, TypeError):
        raise Bad("the signature does not match the manifest") from None


def check_personal_signatures(rows: list[Row], findings: Findings) -> PersonalKeys:
    """Every bundled decision's personal signature, with the keys the bundled events enrolled
    before it (only states that mention a personal field are decoded, as huiyan does)."""
    book = PersonalKeys()
    for row in rows:
        if b'"personal_' not in row.state:
            continue
        state = decoded_state(row.state)
        if state is None:
            findings.add(row.place, "personal signature: the state does not decode")
            continue
        if isinstance(state.get(PERSONAL_KEY_FIELD), str):
            book.enrol(uuid.UUID(bytes=row.originator), row.position, state[PERSONAL_KEY_FIELD])
        if PERSONAL_FIELD in state:
            book.signatures += 1
            try:
                check_personal(row, state, book)
            except Bad as error:
                findings.add(row.place, f"personal signature: {error}")
    return book


# --- the bundle ---------------------------------------------------------------------------------


@dataclass
class Bundle:
    members: dict[str, bytes]
    findings: Findings

    def text(self, name: str) -> str | None:
        """The member as text; None when it is missing (``check_members`` reports that)."""
        data = self.members.get(name)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.findings.add(name, "not UTF-8 text")
            return None

    def json(self, name: str) -> Any:
        text = self.text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            self.findings.add(name, "not JSON")
            return None


def open_archive(path: Path, findings: Findings) -> dict[str, bytes]:
    try:
        with path.open("rb") as stream:
            magic = stream.read(4)
    except OSError as error:
        raise Unusable(f"cannot read {path}: {error.strerror or error}") from None
    if magic != b"PK\x03\x04":
        raise Unusable(f"{path} is not a zip archive")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        findings.add(path.name, f"the archive is damaged ({error})")
        return {}
    members: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            name = info.filename
            if name in members:
                findings.add(name, "two members have this name")
                continue
            try:
                with archive.open(info) as stream:
                    data = stream.read(MAX_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
                    NotImplementedError, RuntimeError) as error:  # fmt: skip
                findings.add(name, f"damaged in the archive ({error})")
                continue
            if len(data) > MAX_MEMBER_BYTES:
                findings.add(name, "larger than 2 GiB")
                continue
            members[name] = data
    return members


@dataclass(frozen=True)
class About:
    """bundle.json: what was exported (the scope decides what completeness means)."""

    scope: str
    origin: str
    tree_size: int
    entries: int


def read_about(bundle: Bundle) -> About | None:
    if BUNDLE not in bundle.members:
        bundle.findings.add(BUNDLE, "missing from the bundle")
    value = bundle.json(BUNDLE)
    if value is None:
        return None
    try:
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise Bad(f"not a {FORMAT} bundle")
        if value.get("scope") not in SCOPES:
            raise Bad(f"the scope is not one of {', '.join(SCOPES)}")
        if not isinstance(value.get("origin"), str):
            raise Bad("the origin is not text")
        size = _count(value.get("tree_size"), "tree_size")
        entries = _count(value.get("entries"), "entries")
    except Bad as error:
        bundle.findings.add(BUNDLE, str(error))
        return None
    return About(value["scope"], value["origin"], size, entries)


def bundled_keys(bundle: Bundle) -> dict[str, LedgerKey]:
    text = bundle.text(LEDGER_KEYS)
    if text is None:
        return {}
    try:
        return read_keys(text.splitlines())
    except Bad as error:
        bundle.findings.add(LEDGER_KEYS, str(error))
        return {}


def trusted_keys(
    bundle: Bundle, given: dict[str, LedgerKey] | None, kept_text: str | None
) -> tuple[dict[str, LedgerKey], Note | None]:
    """The keys to check signatures with, and the kept checkpoint: the auditor's keys, or (with
    only a kept checkpoint) the bundle's, once the kept note verifies under one of them."""
    ours = bundled_keys(bundle)
    if given is not None:
        for key_id, key in ours.items():
            if key_id in given and given[key_id] != key:
                bundle.findings.add(LEDGER_KEYS, f"key {key_id} differs from the trusted key")
        try:
            return given, None if kept_text is None else read_note(kept_text, given)
        except Bad as error:
            raise Unusable(f"--checkpoint: {error}") from None
    assert kept_text is not None
    try:
        return ours, read_note(kept_text, ours)
    except Bad as error:
        bundle.findings.add("--checkpoint", f"the kept checkpoint is not the bundle's: {error}")
        return ours, None


def read_notes(bundle: Bundle, keys: dict[str, LedgerKey], origin: str) -> list[tuple[str, Note]]:
    """The bundled checkpoints, smallest first, each verified and named by its size."""
    notes = []
    for name in sorted(n for n in bundle.members if NOTE_NAME.fullmatch(n)):
        text = bundle.text(name)
        if text is None:
            continue
        try:
            note = read_note(text, keys)
        except Bad as error:
            bundle.findings.add(name, str(error))
            continue
        if name != f"checkpoints/{note.size}.note":
            bundle.findings.add(name, f"it holds a checkpoint of size {note.size}")
        elif note.origin != origin:
            bundle.findings.add(name, f"its origin {note.origin!r} is not the bundle's {origin!r}")
        else:
            notes.append((name, note))
    return sorted(notes, key=lambda item: item[1].size)


def check_checkpoints(
    bundle: Bundle, notes: list[tuple[str, Note]], windows: dict[str, Window], about: About
) -> None:
    """Each checkpoint held to its key's window at its last entry; consecutive ones linked by
    the bundled consistency proofs; the newest one the bundle's tree size."""
    for name, note in notes:
        fault = window_fault(windows, note.key_id, note.size - 1) if note.size else None
        if fault:
            bundle.findings.add(name, fault)
    if not notes or notes[-1][1].size != about.tree_size:
        bundle.findings.add(BUNDLE, f"no bundled checkpoint of its tree size {about.tree_size}")
    proofs = bundle.json(CONSISTENCY)
    pairs = list(zip(notes, notes[1:], strict=False))
    if proofs is None:
        return
    if not isinstance(proofs, list) or len(proofs) != len(pairs):
        bundle.findings.add(CONSISTENCY, f"expected {len(pairs)} proofs, one per pair of "
                            "consecutive checkpoints")  # fmt: skip
        return
    for number, (item, ((_, old), (_, new))) in enumerate(zip(proofs, pairs, strict=True), 1):
        place = f"{CONSISTENCY} proof {number} ({old.size} to {new.size})"
        try:
            if not isinstance(item, dict) or set(item) != {"old_size", "new_size", "proof"}:
                raise Bad("a proof has exactly old_size, new_size and proof")
            if (item["old_size"], item["new_size"]) != (old.size, new.size):
                raise Bad("it does not join consecutive checkpoints")
            path = _hashes(item["proof"])
            verify_consistency(old.size, new.size, old.root, new.root, path)
        except Bad as error:
            bundle.findings.add(place, str(error))


def _hashes(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise Bad("a proof is a list of hashes")
    return [_lower_hex(item, f"proof hash {n}", 32) for n, item in enumerate(value)]


def check_roots(rows: list[Row], notes: list[tuple[str, Note]], bundle: Bundle) -> None:
    """A whole ledger: the root re-derived from the leaves at every bundled checkpoint."""
    frontier, by_size = Frontier(), {note.size: (name, note) for name, note in notes}
    for row in [*rows, None]:
        if frontier.size in by_size:
            name, note = by_size[frontier.size]
            if frontier.root() != note.root:
                bundle.findings.add(name, f"the entries 0..{note.size - 1} do not make its root")
        if row is not None:
            frontier.append(row.leaf)


def check_inclusion(rows: list[Row], head: Note, bundle: Bundle) -> None:
    """A matter: every bundled entry proven in the newest checkpoint's tree."""
    wanted = {row.position: row for row in rows}
    proven: set[int] = set()
    for number, item in json_lines(PROOFS, bundle.members.get(PROOFS, b""), bundle.findings):
        place = f"{PROOFS} line {number}"
        try:
            if not isinstance(item, dict) or set(item) != {"position", "tree_size", "path"}:
                raise Bad("a proof has exactly position, tree_size and path")
            position = _count(item["position"], "position")
            place = f"{PROOFS} position {position}"
            if position not in wanted or position in proven:
                raise Bad("it proves no bundled entry, or one proven already")
            if item["tree_size"] != head.size:
                raise Bad(f"it is against tree size {item['tree_size']}, not {head.size}")
            verify_inclusion(wanted[position].leaf, position, head.size, _hashes(item["path"]),
                             head.root)  # fmt: skip
            proven.add(position)
        except Bad as error:
            bundle.findings.add(place, str(error))
    for position in sorted(set(wanted) - proven)[:1]:
        bundle.findings.add(wanted[position].place, "no inclusion proof for it")


def check_kept(
    kept: Note, notes: list[tuple[str, Note]], rows: list[Row], about: About, bundle: Bundle
) -> None:
    """The auditor's checkpoint must be a prefix of the bundle's history: equal to the bundled
    checkpoint of its size (then the consistency proofs link it to the newest), or, for a
    whole ledger, the root of the entries up to its size."""
    place = f"--checkpoint (size {kept.size})"
    if kept.origin != about.origin:
        bundle.findings.add(place, f"its origin {kept.origin!r} is not the bundle's")
        return
    if kept.size > about.tree_size:
        bundle.findings.add(place, f"it is newer than the bundle (size {about.tree_size})")
        return
    same = next((note for _, note in notes if note.size == kept.size), None)
    if same is not None:
        if same.root != kept.root:
            bundle.findings.add(place, "the bundle's checkpoint of the same size has another "
                                "root: the log's key signed two histories (a fork)")  # fmt: skip
        return
    if about.scope != "all":
        bundle.findings.add(place, "no bundled checkpoint of its size, so nothing proves the "
                            "bundle consistent with it")  # fmt: skip
        return
    roots = Frontier()
    for row in rows[: kept.size]:
        roots.append(row.leaf)
    if roots.size != kept.size or roots.root() != kept.root:
        bundle.findings.add(place, f"the bundle's entries 0..{kept.size - 1} do not make its "
                            "root: the bundle's history is not the one you kept")  # fmt: skip


def check_windows(bundle: Bundle, windows: dict[str, Window]) -> None:
    listed = bundle.json(WINDOWS)
    if listed is None:
        return
    derived = [
        {"key_id": k, "first": w[0], "last": w[1], "revoked_from": w[2]}
        for k, w in sorted(windows.items(), key=lambda item: (item[1][0], item[0]))
    ]
    if listed != derived:
        bundle.findings.add(WINDOWS, "the key windows differ from those the bundled key "
                            "history gives")  # fmt: skip


def check_personal_keys(bundle: Bundle, book: PersonalKeys) -> None:
    listed = bundle.json(PERSONAL_KEYS)
    if listed is not None and listed != book.enrolled:
        bundle.findings.add(PERSONAL_KEYS, "the personal keys differ from those the bundled "
                            "events enrol")  # fmt: skip


def check_documents(bundle: Bundle, rows: list[Row]) -> None:
    """A bundled personal file is named by the hash of its sealed form, which a bundled event
    must carry."""
    named = [name for name in bundle.members if name.startswith("documents/")]
    for name in named:
        match = DOCUMENT_NAME.fullmatch(name)
        if match is None:
            bundle.findings.add(name, "not a document name (documents/<sha256>.<ext>)")
        elif not any(match.group(1).encode() in row.state for row in rows):
            bundle.findings.add(name, "no bundled event names this document")


def check_members(bundle: Bundle, scope: str) -> None:
    required = {MANIFEST, BUNDLE, EVENTS, CONSISTENCY, LEDGER_KEYS, WINDOWS, PERSONAL_KEYS,
                *REPORTS, *([] if scope == "all" else [PROOFS])}  # fmt: skip
    for name in sorted(required - set(bundle.members)):
        bundle.findings.add(name, "missing from the bundle")
    for name in sorted(bundle.members):
        known = name in required or NOTE_NAME.fullmatch(name) or name.startswith("documents/")
        if not known:
            bundle.findings.add(name, "not a file an audit bundle holds")


def check_manifest(bundle: Bundle) -> None:
    """Every file listed with its SHA-256, nothing more, in canonical form (so that no byte of
    the manifest itself can change unseen)."""
    value = bundle.json(MANIFEST)
    if value is None:
        return
    if not isinstance(value, dict) or set(value) != {"format", "files"}:
        bundle.findings.add(MANIFEST, "a manifest has exactly format and files")
        return
    canonical = json.dumps(value, indent=1, sort_keys=True) + "\n"
    if canonical.encode() != bundle.members[MANIFEST]:
        bundle.findings.add(MANIFEST, "not in canonical form (sorted keys, one-space indent)")
    files = value["files"]
    if value["format"] != FORMAT or not isinstance(files, dict):
        bundle.findings.add(MANIFEST, f"not a {FORMAT} manifest")
        return
    others = set(bundle.members) - {MANIFEST}
    for name in sorted(others - set(files)):
        bundle.findings.add(name, "not listed in the manifest")
    for name in sorted(files):
        if name not in others:
            bundle.findings.add(MANIFEST, f"it lists {name}, which the bundle lacks")
        elif hashlib.sha256(bundle.members[name]).hexdigest() != files[name]:
            bundle.findings.add(name, f"its SHA-256 differs from the one {MANIFEST} lists")


@dataclass(frozen=True)
class Verdict:
    problems: list[Problem]
    entries: int = 0
    tree_size: int = 0
    signatures: int = 0

    def line(self) -> str:
        if not self.problems:
            return (
                f"bundle intact: {self.entries} entries, checkpoint size {self.tree_size}, "
                f"{self.signatures} personal signatures"
            )
        first = self.problems[0]
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"bundle FAILED: {first.place}: {first.why}{tail}"


def verify_bundle(
    path: Path, keys: dict[str, LedgerKey] | None = None, kept_text: str | None = None
) -> Verdict:
    """Check everything in the bundle at ``path`` against the auditor's ``keys`` or their kept
    checkpoint (a note's text). Raises Unusable for input that cannot be checked at all."""
    if keys is None and kept_text is None:
        raise Unusable("give the ledger's keys (--keys) or a checkpoint you kept (--checkpoint)")
    findings = Findings()
    members = open_archive(path, findings)
    if MANIFEST not in members and not findings.problems:
        raise Unusable(f"{path} is not a huiyan audit bundle (no {MANIFEST})")
    bundle = Bundle(members, findings)
    about = read_about(bundle)
    if about is None:
        return Verdict(findings.problems)
    check_members(bundle, about.scope)
    trusted, kept = trusted_keys(bundle, keys, kept_text)
    rows = read_rows(members.get(EVENTS, b""), findings)
    complete = about.scope == "all"
    windows = check_rows(rows, about.tree_size, complete, trusted, findings)
    if len(rows) != about.entries:
        findings.add(BUNDLE, f"it announces {about.entries} entries, {EVENTS} holds {len(rows)}")
    check_windows(bundle, windows)
    book = check_personal_signatures(rows, findings)
    check_personal_keys(bundle, book)
    notes = read_notes(bundle, trusted, about.origin)
    check_checkpoints(bundle, notes, windows, about)
    if complete:
        check_roots(rows, notes, bundle)
    elif notes and notes[-1][1].size == about.tree_size:
        check_inclusion(rows, notes[-1][1], bundle)
    if kept is not None:
        check_kept(kept, notes, rows, about, bundle)
    check_documents(bundle, rows)
    check_manifest(bundle)
    return Verdict(findings.problems, len(rows), about.tree_size, book.signatures)


def _read_given(path: Path, what: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as error:
        raise Unusable(f"cannot read {what} {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise Unusable(f"{what} {path} is not UTF-8 text") from None


def _given_keys(path: Path) -> dict[str, LedgerKey]:
    try:
        keys = read_keys(_read_given(path, "--keys").splitlines())
    except Bad as error:
        raise Unusable(f"--keys {path}: {error}") from None
    if not keys:
        raise Unusable(f"--keys {path} holds no verifier key")
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="huiyan-verify",
        description="Check a huiyan audit bundle offline. Exit 0 intact, 1 fails, 2 unusable.",
    )
    parser.add_argument("bundle", type=Path, help="the bundle (FILE.zip)")
    parser.add_argument("--keys", type=Path, help="the ledger's verifier keys (huiyan ledger keys)")
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint (signed note) you kept")
    args = parser.parse_args(argv)
    try:
        keys = None if args.keys is None else _given_keys(args.keys)
        kept = None if args.checkpoint is None else _read_given(args.checkpoint, "--checkpoint")
        verdict = verify_bundle(args.bundle, keys, kept)
    except Unusable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(verdict.line())
    return 1 if verdict.problems else 0


if __name__ == "__main__":
    sys.exit(main())
