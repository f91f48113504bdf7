"""Award certificates that anyone can check, offline, against the ledger's public key.

A certificate is a one-page bilingual PDF. Besides the award it prints, it carries the
evidence that the award is in the contest's ledger: the position and leaf hash of the award
event, a signed C2SP checkpoint that includes it, and the RFC 9162 inclusion proof. The same
facts, machine-readable, sit in the PDF's document information under ``/HuiyanCertificate``
(JSON), so a verifier needs neither the database nor the page's layout, only the ledger's
verifier keys (``huiyan ledger keys``). docs/certificates.md says what the check proves and
what it does not.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from audit.certificate_page import certificate_pdf
from audit.signatures import decoded_state
from domain.final_round import FinalRound
from ledger.checkpoint import CheckpointError, parse_note
from ledger.keys import VerifierKey
from ledger.ledger import Ledger, LedgerError
from ledger.merkle import ProofError, verify_inclusion

FORMAT = "huiyan-certificate/v1"
AWARDED_TOPIC = get_topic(FinalRound.Awarded)
INFO_KEY = "/HuiyanCertificate"
LANGUAGES = ("zh", "en")
NOT_OURS = "not a valid huiyan award certificate"


class CertificateInvalid(ValueError):
    """Bytes that are not a huiyan award certificate; the message says why, on one line."""


@dataclass(frozen=True)
class Evidence:
    """What makes a certificate checkable: the award event's place in the signed tree."""

    position: int
    leaf_hash: str
    checkpoint: str
    proof: list[str]


@dataclass(frozen=True)
class Certificate:
    contest: Mapping[str, str]
    track: int
    track_name: str
    team_name: str
    team_id: str  # binds the certificate to the ledger's award (``ledger_problems``)
    award: Mapping[str, str]
    rank: int
    final_score: float
    awarded_at: datetime
    evidence: Evidence

    def __post_init__(self) -> None:
        """A certificate is printed in both languages and its time must read the same
        everywhere, so a missing language or a naive time is refused when it is made."""
        for name in ("contest", "award"):
            value = getattr(self, name)
            if set(value) != set(LANGUAGES) or not all(isinstance(v, str) for v in value.values()):
                raise ValueError(f"{name} needs exactly zh and en texts")
        if self.awarded_at.tzinfo is None:
            raise ValueError("awarded_at needs a UTC offset")
        if not math.isfinite(self.final_score):
            raise ValueError("final_score must be a finite number")


# --- evidence from the ledger -------------------------------------------------------------


def ledger_evidence(ledger: Ledger, position: int, *, now: datetime) -> Evidence:
    """The evidence for the entry at ``position``, against the latest checkpoint when it
    includes the entry, else against a fresh one signed at the head (``now`` is the time the
    ledger records with it: pass the one clock, ``Settings.now()``). The ledger checks the
    proof against the signed root before handing it out."""
    if position < 0:
        raise LedgerError(f"no entry at position {position}")
    latest = ledger.latest_checkpoint()
    if latest is None or latest.checkpoint.tree_size <= position:
        issued = ledger.issue_checkpoint(now)
        if issued.checkpoint.tree_size <= position:
            raise LedgerError(
                f"no entry at position {position}: the ledger holds "
                f"{issued.checkpoint.tree_size} entries"
            )
    proof = ledger.inclusion_proof(position)
    return Evidence(
        position=proof.position,
        leaf_hash=proof.leaf_hash.hex(),
        checkpoint=proof.checkpoint_note,
        proof=[node.hex() for node in proof.path],
    )


# --- checking -----------------------------------------------------------------------------


def check_certificate(
    certificate: Certificate, *, trusted_keys: Mapping[str, VerifierKey]
) -> list[str]:
    """The problems found offline, each ``"<what>: <why>"``; an empty list means valid.

    The checkpoint must be signed by a trusted ledger key, and the proof must put the leaf
    hash at the position under the checkpoint's root, in a tree of the checkpoint's size.
    """
    evidence = certificate.evidence
    try:
        signed = parse_note(evidence.checkpoint, dict(trusted_keys))
    except CheckpointError as error:
        return [f"checkpoint: {error}"]
    leaf = _hash_of(evidence.leaf_hash)
    path = [_hash_of(node) for node in evidence.proof]
    problems = []
    if leaf is None:
        problems.append("leaf hash: not 64 hexadecimal digits")
    bad = [str(index) for index, node in enumerate(path) if node is None]
    if bad:
        problems.append(f"proof: hash {', '.join(bad)} not 64 hexadecimal digits")
    if problems:
        return problems
    checkpoint = signed.checkpoint
    try:
        verify_inclusion(leaf, evidence.position, checkpoint.tree_size, path, checkpoint.root_hash)
    except ProofError as error:
        return [
            f"inclusion: the leaf hash at position {evidence.position} is not proven in the "
            f"checkpoint's tree of size {checkpoint.tree_size} ({error})"
        ]
    return []


def ledger_problems(certificate: Certificate, ledger: Ledger) -> list[str]:
    """What a ledger at hand says against the certificate: the entry at its position must be
    there, hold its leaf hash, and still hash to it (its content unedited)."""
    evidence = certificate.evidence
    try:
        entry = ledger.entry(evidence.position)
    except LedgerError as error:
        return [f"ledger: {error}"]
    if entry.leaf_hash.hex() != evidence.leaf_hash:
        return [
            f"ledger: the entry at position {evidence.position} has leaf hash "
            f"{entry.leaf_hash.hex()}, not the certificate's"
        ]
    if entry.derived_leaf() != entry.leaf_hash:
        return [f"ledger: the entry at position {evidence.position} does not hash to its leaf"]
    return award_problems(certificate, entry.topic, decoded_state(entry.state))


def award_problems(certificate: Certificate, topic: str, state: dict[str, Any]) -> list[str]:
    """The entry must be a track's awards and give this team this rank and score: evidence
    copied from a genuine certificate onto another team's name proves nothing."""
    where = f"ledger: the entry at position {certificate.evidence.position}"
    if topic != AWARDED_TOPIC:
        return [f"{where} is not an award ({topic})"]
    given = [a for a in state.get("awards", []) if str(a.get("team_id")) == certificate.team_id]
    if not given:
        return [f"{where} does not name this team"]
    rank, score = given[0].get("rank"), given[0].get("final_score")
    if (
        rank != certificate.rank
        or not isinstance(score, float | int)
        or (abs(float(score) - certificate.final_score) > 1e-9)
    ):
        return [f"{where} gives this team rank {rank} and score {score}, not the certificate's"]
    return []


def _hash_of(text: object) -> bytes | None:
    """32 bytes from 64 hex digits, or None: a verifier must name a malformed hash, not crash."""
    if not isinstance(text, str) or len(text) != 64:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


# --- the machine-readable certificate -----------------------------------------------------


def certificate_json(certificate: Certificate) -> str:
    """Canonical JSON (sorted keys, ASCII): the same certificate always gives the same text."""
    record = asdict(certificate)
    record["contest"] = dict(certificate.contest)
    record["award"] = dict(certificate.award)
    record["awarded_at"] = certificate.awarded_at.isoformat()
    record["format"] = FORMAT
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)


def certificate_from_json(text: str) -> Certificate:
    """The certificate in ``text``; anything but exactly the fields of ``FORMAT``, with their
    types, is ``CertificateInvalid``, saying which field is wrong."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        raise CertificateInvalid(f"{NOT_OURS}: its data is not JSON") from None
    try:
        return _certificate_of(record)
    except (ValueError, OverflowError) as error:  # ours, or the Certificate's own checks
        raise CertificateInvalid(f"{NOT_OURS}: {error}") from None


def _certificate_of(record: Any) -> Certificate:
    _require(record, dict, "the certificate data")
    _require_fields(record, {"format", *Certificate.__dataclass_fields__}, "the certificate")
    if record["format"] != FORMAT:
        raise CertificateInvalid(f"unknown certificate format {record['format']!r}")
    evidence = _require(record["evidence"], dict, "evidence")
    _require_fields(evidence, set(Evidence.__dataclass_fields__), "evidence")
    return Certificate(
        contest=_texts(record["contest"], "contest"),
        track=_require(record["track"], int, "track"),
        track_name=_require(record["track_name"], str, "track_name"),
        team_name=_require(record["team_name"], str, "team_name"),
        team_id=_require(record["team_id"], str, "team_id"),
        award=_texts(record["award"], "award"),
        rank=_require(record["rank"], int, "rank"),
        final_score=float(_require(record["final_score"], (int, float), "final_score")),
        awarded_at=_time(record["awarded_at"]),
        evidence=Evidence(
            position=_require(evidence["position"], int, "evidence position"),
            leaf_hash=_require(evidence["leaf_hash"], str, "evidence leaf_hash"),
            checkpoint=_require(evidence["checkpoint"], str, "evidence checkpoint"),
            proof=_strings(evidence["proof"], "evidence proof"),
        ),
    )


def _require(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` when it has the type (a bool is not a number here), else CertificateInvalid."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise CertificateInvalid(f"{what} has the wrong type ({type(value).__name__})")
    return value


def _require_fields(record: dict[str, Any], fields: set[str], what: str) -> None:
    """Exactly these fields: a v1 reader must not silently drop what it does not know."""
    missing, extra = sorted(fields - set(record)), sorted(set(record) - fields)
    parts = [f"lacks {', '.join(missing)}"] if missing else []
    parts += [f"has unknown {', '.join(extra)}"] if extra else []
    if parts:
        raise CertificateInvalid(f"{what} {' and '.join(parts)}")


def _texts(value: Any, what: str) -> dict[str, str]:
    _require(value, dict, what)
    return {key: _require(text, str, f"{what} {key}") for key, text in value.items()}


def _strings(value: Any, what: str) -> list[str]:
    return [_require(item, str, f"{what} item") for item in _require(value, list, what)]


def _time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(_require(value, str, "awarded_at"))
    except ValueError:
        raise CertificateInvalid(f"awarded_at is not an ISO 8601 time: {value!r}") from None


# --- the PDF ------------------------------------------------------------------------------


def read_certificate(pdf: bytes) -> Certificate:
    """The certificate embedded in a PDF that ``render_certificate`` made; any other bytes are
    ``CertificateInvalid``. The page itself is not read: the embedded data is what is checked."""
    if not pdf.startswith(b"%PDF-"):
        raise CertificateInvalid("not a PDF file")
    try:
        info = PdfReader(io.BytesIO(pdf)).metadata
        value = None if info is None else info.get(INFO_KEY)
        value = value.get_object() if hasattr(value, "get_object") else value
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
        raise CertificateInvalid(f"not a readable PDF ({type(error).__name__})") from None
    if value is None:
        raise CertificateInvalid(f"not a huiyan award certificate (no {INFO_KEY} in the PDF)")
    if not isinstance(value, str):
        raise CertificateInvalid(f"not a huiyan award certificate ({INFO_KEY} is not text)")
    return certificate_from_json(value)


def render_certificate(certificate: Certificate) -> bytes:
    """The one-page A4 certificate, its data embedded; the same certificate gives the same
    bytes (a reprint is identical, and a hash of the file identifies it)."""
    return certificate_pdf(certificate, certificate_json(certificate))
