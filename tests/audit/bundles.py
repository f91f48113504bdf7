"""A small but real history for the audit bundle tests, made through the CLI on SQLite: the
contest and its rules (signed), a team formed by its people with their identity proof,
approved (signed), a checkpoint kept, the ledger's key rotated (signed handover), the team's
commitment letter uploaded under the new key; and the people who export and are refused."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from uuid import UUID

from audit.signatures import KeyBook, SignedEvent, check_event, decoded_state
from domain.errors import SignatureInvalid
from tests.flows import REGISTRATION_TIME, Huiyan, approved_team, blank_pdf

REPOSITORY = Path(__file__).resolve().parents[2]
VERIFIER = REPOSITORY / "audit" / "verify.py"
EXPORTERS = {"compliance": "compliance_officer", "auditor": "audit_administrator",
             "arbiter": "arbitrator", "expert": "expert"}  # fmt: skip


@dataclass
class History:
    huiyan: Huiyan
    team: str
    work: Path
    keys: Path  # the ledger's verifier keys, as `huiyan ledger keys` prints them
    kept: Path  # a checkpoint kept before the rotation (signed by the retired key)

    def export(self, *args: str, who: str = "organiser", out: str = "bundle.zip") -> Path:
        path = self.work / out
        self.huiyan.ok("audit", "export", *args, "--out", str(path), who=who)
        return path

    @property
    def database(self) -> Path:
        return self.work / "ledger.sqlite3"


def build_history(work: Path) -> History:
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    team = approved_team(huiyan)
    for login, role in EXPORTERS.items():
        huiyan.account(login, role)
    at = {"clock": REGISTRATION_TIME}
    kept = work / "kept.note"
    kept.write_text(huiyan.ok("ledger", "checkpoint", **at) + "\n")
    huiyan.ok("keys", "rotate", "--reason", "the yearly rotation", **at)
    huiyan.ok("contest", "call-documents", **at)
    letter = blank_pdf(work / "letter.pdf")
    huiyan.ok("team", "upload", team, "commitment_letter", str(letter), who="lead-yongjiang",
              **at)  # fmt: skip
    keys = work / "ledger.vkeys"
    keys.write_text(huiyan.ok("ledger", "keys") + "\n")
    return History(huiyan, team, work, keys, kept)


def load_verifier() -> ModuleType:
    """audit/verify.py imported as a file, the way an auditor runs it: not as part of huiyan."""
    spec = importlib.util.spec_from_file_location("standalone_verify", VERIFIER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def rewritten(bundle: Path, out: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of ``bundle`` with one member's bytes changed (the rest, manifest included, as
    they were)."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == name else data)
    return out


def flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def copy_verifier(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(VERIFIER, folder / "verify.py"))


# A signed decision changed after the fact, each in its own way (``None``: as recorded).
MUTATIONS: dict[str, Callable[[dict], object] | None] = {
    "as recorded": None,
    "a field added": lambda s: s.update(added_later=1),
    "the signature changed": lambda s: s["personal_signature"].update(signature="00" * 64),
    "another meaning": lambda s: s["personal_signature"]["manifest"].update(meaning="liked"),
    "another version": lambda s: s["personal_signature"]["manifest"].update(version=99),
    "another key named": lambda s: s["personal_signature"]["manifest"].update(key_id="0" * 16),
    "no signer": lambda s: s["personal_signature"]["manifest"].update(signer="nobody"),
    "a manifest field missing": lambda s: s["personal_signature"]["manifest"].pop("at"),
    "an extra record field": lambda s: s["personal_signature"].update(extra=1),
    "no signature": lambda s: s.update(personal_signature=None),
}


def judged_alike(verifier: ModuleType, bundle: Path, mutation: str) -> list[str]:
    """Every signed decision of ``bundle``, changed by ``mutation``, judged by huiyan's own
    check (audit.signatures) and by the standalone verifier: the same verdict and the same
    reason, or the assertion says which. Returns the meanings judged."""
    with zipfile.ZipFile(bundle) as archive:
        records = [json.loads(line) for line in archive.read("events.jsonl").splitlines()]
        enrolled = json.loads(archive.read("keys/personal.json"))
    meanings = []
    for record in records:
        state = json.loads(bytes.fromhex(record["state"]))
        if "personal_signature" not in state:
            continue
        meanings.append(state["personal_signature"]["manifest"]["meaning"])
        change = MUTATIONS[mutation]
        if change is not None:
            change(state)
        data = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
        entry = verifier.Row(**{**verifier.row_of(record).__dict__, "state": data})
        book, ours = KeyBook(), verifier.PersonalKeys()
        for key in enrolled:
            book.enrol(UUID(key["account"]), key["position"], key["public_key"])
            ours.enrol(UUID(key["account"]), key["position"], key["public_key"])
        event = SignedEvent(entry.position, entry.topic, UUID(entry.aggregate), entry.version,
                            decoded_state(data))  # fmt: skip
        try:
            check_event(event, book)
            theirs = None
        except SignatureInvalid as error:
            theirs = error.facts["why"]
        try:
            verifier.check_personal(entry, verifier.decoded_state(data), ours)
            mine = None
        except verifier.Bad as error:
            mine = str(error)
        assert (mine, record["topic"]) == (theirs, record["topic"])
        assert (mine is None) == (change is None), (mutation, record["topic"])
    return meanings
