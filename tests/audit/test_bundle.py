"""Audit bundles, made by `huiyan audit export` on a real SQLite ledger and checked by the
standalone verifier (audit/verify.py, imported as a file): the round trip for a team and for
the whole ledger, trust from a kept checkpoint, a kept checkpoint the bundle's history is
inconsistent with, a flipped byte anywhere, unusable input, and who may export."""

from __future__ import annotations

import ast
import hashlib
import json
import sqlite3
import sys
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.access_log import AccessLog
from audit.bundle import Scope
from domain.accounts import Actor, Role
from domain.errors import AppealNotYours, NotPermitted
from ledger.checkpoint import Checkpoint
from ledger.keys import SigningKey
from ledger.ledger import keyring_for
from ledger.merkle import root_from_leaf_hashes
from ledger.settings import Settings
from services.audit_export import Request, require_exporter
from tests.audit.bundles import (
    MUTATIONS,
    VERIFIER,
    History,
    build_history,
    flipped,
    judged_alike,
    load_verifier,
    rewritten,
)
from tests.flows import EXAMPLES

VERIFY = load_verifier()
KEY_HISTORY = "ledger.key_history:"


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    return build_history(tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="module")
def team_bundle(history) -> Path:
    return history.export("--team", history.team, out="team.zip")


@pytest.fixture(scope="module")
def all_bundle(history) -> Path:
    return history.export("--all", who="auditor", out="all.zip")


def verify(capsys, bundle: Path, *options: object) -> tuple[int, str]:
    code = VERIFY.main([str(bundle), *map(str, options)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def rows(history: History) -> list[tuple[int, UUID, str, dict]]:
    """(position, aggregate, topic, state) of every stored row, read here with sqlite3."""
    with sqlite3.connect(history.database) as conn:
        found = conn.execute(
            "SELECT position, originator_id, topic, state FROM ledger_events ORDER BY position"
        ).fetchall()
    return [(p, UUID(bytes=o), t, json.loads(s)) for p, o, t, s in found]


def members(bundle: Path, name: str) -> bytes:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read(name)


def bundled_events(bundle: Path) -> list[dict]:
    return [json.loads(line) for line in members(bundle, "events.jsonl").splitlines()]


# --- the round trip -----------------------------------------------------------------------------


def test_a_team_bundle_holds_the_matter_and_verifies(history, team_bundle, capsys):
    stored = rows(history)
    team = UUID(history.team)
    signers = {
        UUID(state["personal_signature"]["manifest"]["signer"])
        for _, aggregate, _, state in stored
        if aggregate == team and "personal_signature" in state
    }
    key_history = {aggregate for _, aggregate, topic, _ in stored if topic.startswith(KEY_HISTORY)}
    wanted = {team, *signers, *key_history}
    expected = [p for p, aggregate, _, _ in stored if aggregate in wanted or p == 0]
    events = bundled_events(team_bundle)
    assert [event["position"] for event in events] == expected
    assert len(signers) == 1 and len(key_history) == 1  # the organiser; the one rotation
    code, line = verify(capsys, team_bundle, "--keys", history.keys)
    assert (code, line) == (
        0,
        f"bundle intact: {len(expected)} entries, checkpoint size {len(stored)}, "
        "1 personal signatures\n",
    )
    proofs = [json.loads(p) for p in members(team_bundle, "proofs.jsonl").splitlines()]
    assert [proof["position"] for proof in proofs] == expected
    about = json.loads(members(team_bundle, "bundle.json"))
    assert (about["scope"], about["subject"], about["role"]) == ("team", history.team, "organiser")
    with zipfile.ZipFile(team_bundle) as archive:
        notes = sorted(n for n in archive.namelist() if n.endswith(".note"))
    kept_size = int(history.kept.read_text().splitlines()[1])
    assert notes == sorted([f"checkpoints/{kept_size}.note", f"checkpoints/{len(stored)}.note"])


def test_the_report_says_who_did_what_and_names_nobody(history, team_bundle):
    page = members(team_bundle, "report/report.html").decode()
    approved = next(e for e in bundled_events(team_bundle) if e["topic"].endswith("Approved"))
    state = json.loads(bytes.fromhex(approved["state"]))
    signer = state["personal_signature"]["manifest"]["signer"]
    assert f"<td>{approved['position']}</td>" in page
    cells = ("Team.Approved", history.team, signer, "approved")
    assert "".join(f"<td>{cell}</td>" for cell in cells) in page
    pdf = members(team_bundle, "report/report.pdf")
    assert pdf.startswith(b"%PDF")
    names = [yaml.safe_load((EXAMPLES / "team-yongjiang.yaml").read_text())["name"]]
    names += [yaml.safe_load(p.read_text())["name"]
              for p in (EXAMPLES / "members").glob("yongjiang-*.yaml")]  # fmt: skip
    for name in names:
        for form in (name.encode(), name.encode("utf-16-be")):
            assert form not in pdf and form not in page.encode()


def test_the_whole_ledger_verifies_end_to_end(history, all_bundle, capsys):
    stored = rows(history)
    signed = sum("personal_signature" in state for *_, state in stored)
    code, line = verify(capsys, all_bundle, "--keys", history.keys)
    assert (code, line) == (
        0,
        f"bundle intact: {len(stored)} entries, checkpoint size {len(stored)}, "
        f"{signed} personal signatures\n",
    )
    assert signed >= 3  # the rules, the approval, the rotation decision
    handover = next(p for p, _, topic, _ in stored if topic.endswith("KeyHistory.HandedOver"))
    windows = json.loads(members(all_bundle, "keys/windows.json"))
    assert [(w["first"], w["last"]) for w in windows] == [(0, handover - 1), (handover, None)]
    assert not any(name.startswith("proofs") for name in zipfile.ZipFile(all_bundle).namelist())


@pytest.mark.parametrize("which", ["team", "all"])
def test_a_kept_checkpoint_is_enough_to_trust_the_bundle(history, team_bundle, all_bundle,
                                                         which, capsys):  # fmt: skip
    """The kept note was signed by the key retired since: the bundle's later entries are
    trusted through the handover that key signed."""
    bundle = team_bundle if which == "team" else all_bundle
    code, line = verify(capsys, bundle, "--checkpoint", history.kept)
    assert code == 0 and line.startswith("bundle intact: "), line


# --- kept checkpoints the bundle is inconsistent with --------------------------------------------


def ledger_key(history: History) -> SigningKey:
    return keyring_for(Settings.from_env(history.huiyan.env)).signing_key(create=False)


def signed_note(history: History, size: int, root: bytes, tmp_path: Path) -> Path:
    key = ledger_key(history)
    path = tmp_path / f"kept-{size}-{root.hex()[:8]}.note"
    path.write_text(Checkpoint(key.name, size, root).sign(key))
    return path


def leaves(history: History) -> list[bytes]:
    with sqlite3.connect(history.database) as conn:
        return [bytes(row[0]) for row in conn.execute(
            "SELECT leaf_hash FROM ledger_events ORDER BY position")]  # fmt: skip


@pytest.mark.parametrize("which", ["team", "all"])
@pytest.mark.parametrize("trust", ["keys", "checkpoint only"])
def test_a_fork_of_a_bundled_checkpoint_fails(history, team_bundle, all_bundle, which, trust,
                                              tmp_path, capsys):  # fmt: skip
    """The ledger's key signed another root for a size the bundle holds: a fork."""
    size = int(history.kept.read_text().splitlines()[1])
    other = signed_note(history, size, hashlib.sha256(b"another history").digest(), tmp_path)
    bundle = team_bundle if which == "team" else all_bundle
    keys = ["--keys", history.keys] if trust == "keys" else []
    code, line = verify(capsys, bundle, *keys, "--checkpoint", other)
    assert code == 1
    assert line.startswith(f"bundle FAILED: --checkpoint (size {size}): ") and "fork" in line


def test_a_kept_checkpoint_of_another_history_fails_against_the_whole_ledger(
    history, all_bundle, tmp_path, capsys
):
    size = 5  # no checkpoint of this size is bundled: the verifier derives the root
    wrong = root_from_leaf_hashes(leaves(history)[1 : size + 1])
    code, line = verify(capsys, all_bundle, "--checkpoint", signed_note(history, size, wrong,
                                                                        tmp_path))  # fmt: skip
    assert code == 1 and "not the one you kept" in line, line
    right = root_from_leaf_hashes(leaves(history)[:size])
    code, line = verify(capsys, all_bundle, "--checkpoint", signed_note(history, size, right,
                                                                        tmp_path))  # fmt: skip
    assert code == 0, line


def test_a_matter_cannot_prove_a_kept_checkpoint_of_a_size_it_does_not_hold(
    history, team_bundle, tmp_path, capsys
):
    """A team's bundle has no leaves to derive other roots from: it says so, it does not
    pass what it cannot prove."""
    right = root_from_leaf_hashes(leaves(history)[:5])
    code, line = verify(capsys, team_bundle, "--checkpoint", signed_note(history, 5, right,
                                                                         tmp_path))  # fmt: skip
    assert code == 1 and "nothing proves" in line, line


def test_a_kept_checkpoint_newer_than_the_bundle_fails(history, team_bundle, tmp_path, capsys):
    size = len(leaves(history)) + 1
    note = signed_note(history, size, hashlib.sha256(b"later").digest(), tmp_path)
    code, line = verify(capsys, team_bundle, "--keys", history.keys, "--checkpoint", note)
    assert code == 1 and "newer than the bundle" in line, line


# --- a flipped byte anywhere -------------------------------------------------------------------


def _in_row(topic: str, column: str, skip: int = 10):
    """The offset of a digit inside ``column`` of the row of event ``topic``."""

    def locate(data: bytes) -> int:
        row = data.index(f'"topic":"{topic}"'.encode())
        start = data.rindex(b"\n", 0, row) + 1 if b"\n" in data[:row] else 0
        return _digit(data.index(f'"{column}":"'.encode(), start) + len(column) + 4 + skip, data)

    return locate


def _after(marker: bytes, skip: int = 3):
    return lambda data: data.index(marker) + len(marker) + skip


def _digit(offset: int, data: bytes) -> int:
    """The first digit at or after ``offset``: flipped, it is still a digit (so still hex and
    base64), and only the value changes."""
    while data[offset] not in b"0123456789":
        offset += 1
    return offset


FLIPS = [
    ("events.jsonl", _in_row("domain.teams:Team.Approved", "state", 80), "(Team.Approved): its content does not hash"),  # noqa: E501
    ("events.jsonl", _in_row("domain.teams:Team.Approved", "signature"), "(Team.Approved): its signature does not verify"),  # noqa: E501
    ("events.jsonl", _in_row("domain.teams:Team.Approved", "leaf_hash"), "(Team.Approved): its content does not hash"),  # noqa: E501
    ("events.jsonl", _in_row("domain.teams:Team.Approved", "prev_hash"), "(Team.Approved): its link does not match"),  # noqa: E501
    ("events.jsonl", _in_row(KEY_HISTORY + "KeyHistory.HandedOver", "key_id", 0), "(KeyHistory.HandedOver)"),  # noqa: E501
    ("events.jsonl", _after(b'"originator_version":', 0), "events.jsonl position 0 (Account.Opened): its content"),  # noqa: E501
    ("proofs.jsonl", _after(b'"path":["', 7), "proofs.jsonl position "),
    ("LAST_NOTE", lambda data: data.index(b"\n") + 1, ".note: its signature by key"),  # the size
    ("LAST_NOTE", lambda data: _digit(len(data) - 60, data), ".note: its signature by key"),
    ("checkpoints/consistency.json", _after(b'"proof": [\n   "', 9), "checkpoints/consistency.json proof 1"),  # noqa: E501
    ("keys/ledger.vkeys", lambda data: data.index(b"+") + 2, "keys/ledger.vkeys: line 1: key"),
    ("keys/windows.json", _after(b'"first": ', 0), "keys/windows.json: the key windows differ"),
    ("keys/personal.json", _after(b'"public_key": "', 5), "keys/personal.json: the personal keys differ"),  # noqa: E501
    ("bundle.json", _after(b'"exported_at": "', 3), "bundle.json: its SHA-256 differs from the one manifest.json lists"),  # noqa: E501
    ("manifest.json", _after(b'"events.jsonl": "', 5), "events.jsonl: its SHA-256 differs from the one manifest.json lists"),  # noqa: E501
    ("manifest.json", _after(b'"format": "', 2), "manifest.json: not a huiyan-audit-bundle/v1 manifest"),  # noqa: E501
    ("manifest.json", lambda data: 0, "manifest.json: not JSON"),
    ("report/report.html", lambda data: len(data) // 2, "report/report.html: its SHA-256 differs"),
    ("report/report.pdf", lambda data: len(data) // 2, "report/report.pdf: its SHA-256 differs"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "locate", "named"), FLIPS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(FLIPS)])  # fmt: skip
def test_a_flipped_byte_fails_and_is_named(history, team_bundle, name, locate, named, tmp_path,
                                           capsys):  # fmt: skip
    if name == "LAST_NOTE":
        name = f"checkpoints/{len(leaves(history))}.note"
    original = members(team_bundle, name)
    tampered = rewritten(team_bundle, tmp_path / "t.zip", name,
                         lambda data: flipped(data, locate(data)))  # fmt: skip
    assert members(tampered, name) != original
    code, line = verify(capsys, tampered, "--keys", history.keys)
    assert code == 1 and line.count("\n") == 1, line
    assert line.startswith("bundle FAILED: ") and named in line, line


def test_a_manifest_not_in_canonical_form_fails(history, team_bundle, tmp_path, capsys):
    def reindented(data: bytes) -> bytes:
        return (json.dumps(json.loads(data), indent=2, sort_keys=True) + "\n").encode()

    tampered = rewritten(team_bundle, tmp_path / "t.zip", "manifest.json", reindented)
    code, line = verify(capsys, tampered, "--keys", history.keys)
    assert code == 1 and "manifest.json: not in canonical form" in line, line


def _without(bundle: Path, out: Path, drop) -> Path:
    def kept_lines(data: bytes) -> bytes:
        return b"".join(line for line in data.splitlines(keepends=True)
                        if not drop(json.loads(line)))  # fmt: skip

    return rewritten(bundle, out, "events.jsonl", kept_lines)


@pytest.mark.parametrize(
    ("which", "drop", "named"),
    [
        ("all", lambda e: e["position"] == 7, "events.jsonl: position 7 is missing"),
        ("team", lambda e: e["position"] == 0, "events.jsonl: the ledger's first entry"),
        ("team", lambda e: e["topic"].endswith("Team.Submitted"), "(Team.Approved): aggregate "),
    ],
    ids=["a gap in the whole ledger", "position 0 of a matter", "an event of a matter"],
)
def test_a_left_out_entry_is_named(history, team_bundle, all_bundle, which, drop, named,
                                   tmp_path, capsys):  # fmt: skip
    bundle = team_bundle if which == "team" else all_bundle
    code, line = verify(capsys, _without(bundle, tmp_path / "t.zip", drop), "--keys", history.keys)
    assert code == 1 and named in line, line


def test_a_whole_ledger_must_make_its_checkpoints_root(history, all_bundle, tmp_path, capsys):
    """The ledger's key signed a root the entries do not make; the bundle holds that one
    checkpoint alone (so no consistency proof can give it away first)."""
    size = len(leaves(history))
    forged = signed_note(history, size, hashlib.sha256(b"not these entries").digest(), tmp_path)
    head, kept_size = f"checkpoints/{size}.note", int(history.kept.read_text().splitlines()[1])
    with zipfile.ZipFile(all_bundle) as source, zipfile.ZipFile(tmp_path / "t.zip", "w") as out:
        for info in source.infolist():
            if info.filename == f"checkpoints/{kept_size}.note":
                continue
            data = {head: forged.read_bytes(), "checkpoints/consistency.json": b"[]\n"}.get(
                info.filename, source.read(info)
            )
            out.writestr(info, data)
    code, line = verify(capsys, tmp_path / "t.zip", "--keys", history.keys)
    assert code == 1, line
    assert line.startswith(f"bundle FAILED: {head}: the entries 0..{size - 1} do not make its root")


def test_a_document_no_event_names_fails(history, team_bundle, tmp_path, capsys):
    name = f"documents/{hashlib.sha256(b'planted').hexdigest()}.pdf"
    with zipfile.ZipFile(team_bundle) as source, zipfile.ZipFile(tmp_path / "t.zip", "w") as out:
        for info in source.infolist():
            out.writestr(info, source.read(info))
        out.writestr(name, b"%PDF-1.4 planted")
    code, line = verify(capsys, tmp_path / "t.zip", "--keys", history.keys)
    assert (code, line.split(" (and")[0]) == (
        1,
        f"bundle FAILED: {name}: no bundled event names this document",
    )


@pytest.mark.parametrize("member", ["events.jsonl", "manifest.json", "keys/ledger.vkeys"])
@pytest.mark.parametrize("where", [0.25, 0.5, 0.9])
def test_a_flipped_byte_in_the_archive_fails(history, team_bundle, member, where, tmp_path,
                                             capsys):  # fmt: skip
    """A byte of the zip file itself, inside a member's compressed data."""
    with zipfile.ZipFile(team_bundle) as archive:
        info = archive.getinfo(member)
    data = team_bundle.read_bytes()
    header = info.header_offset
    name_length, extra_length = int.from_bytes(data[header + 26 : header + 28], "little"), \
        int.from_bytes(data[header + 28 : header + 30], "little")  # fmt: skip
    start = header + 30 + name_length + extra_length
    tampered = tmp_path / "raw.zip"
    tampered.write_bytes(flipped(data, start + int(info.compress_size * where)))
    code, line = verify(capsys, tampered, "--keys", history.keys)
    assert code == 1 and f"{member}: damaged in the archive" in line, line


def test_keys_that_did_not_sign_the_ledger_fail(history, team_bundle, tmp_path, capsys):
    stranger = SigningKey(ledger_key(history).name, Ed25519PrivateKey.generate())
    keys = tmp_path / "stranger.vkeys"
    keys.write_text(stranger.verifier.encode() + "\n")
    code, line = verify(capsys, team_bundle, "--keys", keys)
    assert code == 1 and "position 0" in line and "not trusted" in line, line


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_personal_signatures_are_judged_as_huiyan_judges_them(all_bundle, mutation):
    meanings = judged_alike(VERIFY, all_bundle, mutation)
    assert set(meanings) == {"published", "approved", "rotated"}


# --- unusable input ----------------------------------------------------------------------------


def test_unusable_input_exits_2(history, team_bundle, tmp_path, capsys):
    not_zip = tmp_path / "not.zip"
    not_zip.write_text("hello")
    garbage = tmp_path / "garbage.vkeys"
    garbage.write_text("not a key\n")
    empty = tmp_path / "empty.vkeys"
    empty.write_text("# nothing\n")
    stranger = SigningKey(ledger_key(history).name, Ed25519PrivateKey.generate())
    stranger_keys = tmp_path / "stranger.vkeys"
    stranger_keys.write_text(stranger.verifier.encode() + "\n")
    binary = tmp_path / "binary.note"
    binary.write_bytes(b"\xff\xfe")
    cases = [
        ([tmp_path / "missing.zip", "--keys", history.keys], "cannot read"),
        ([not_zip, "--keys", history.keys], "is not a zip archive"),
        ([team_bundle, "--keys", garbage], "--keys"),
        ([team_bundle, "--keys", empty], "holds no verifier key"),
        ([team_bundle], "give the ledger's keys"),
        ([team_bundle, "--keys", stranger_keys, "--checkpoint", history.kept], "--checkpoint"),
        ([team_bundle, "--checkpoint", binary], "not UTF-8"),
    ]
    for arguments, message in cases:
        code, output = verify(capsys, *arguments)
        assert code == 2 and output.startswith("error: ") and message in output, output


# --- who may export ----------------------------------------------------------------------------


def test_exactly_one_scope(history):
    for args in ([], ["--team", history.team, "--all"]):
        result = history.huiyan("audit", "export", *args, "--out", str(history.work / "x.zip"))
        assert result.exit_code == 2 and "exactly one of" in result.output


def test_personal_files_only_for_the_organiser_and_the_compliance_officer(
    history, team_bundle, capsys
):
    refused = history.huiyan("audit", "export", "--team", history.team, "--with-documents",
                             "--out", str(history.work / "no.zip"), who="auditor")  # fmt: skip
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    assert not (history.work / "no.zip").exists()
    bundle = history.export("--team", history.team, "--with-documents", who="compliance",
                            out="documents.zip")  # fmt: skip
    with zipfile.ZipFile(bundle) as archive:
        documents = sorted(n for n in archive.namelist() if n.startswith("documents/"))
    # the identity proof, the commitment letter and the three members' records
    assert sorted(name.rsplit(".", 1)[1] for name in documents) == ["json"] * 3 + ["pdf"] * 2
    records = [json.loads(members(bundle, n)) for n in documents if n.endswith(".json")]
    assert {record["name"] for record in records} >= {"韦明远", "黄晓岚"}
    assert json.loads(members(bundle, "bundle.json"))["documents"] == documents
    code, line = verify(capsys, bundle, "--keys", history.keys)
    assert code == 0, line
    settings = Settings.from_env(history.huiyan.env)
    log = AccessLog.open(settings).entries(what="read.audit_bundle")
    outcomes = [(e["role"], e["action"], e["outcome"]) for e in log if e["subject"] == history.team]
    assert ("audit_administrator", "read.audit_bundle.documents", "refused") in outcomes
    assert ("compliance_officer", "read.audit_bundle.documents", "ok") in outcomes
    assert ("organiser", "read.audit_bundle", "ok") in outcomes


def test_an_arbitrator_exports_only_an_appeal_they_were_drawn_for():
    drawn, other = uuid4(), uuid4()
    appeal = SimpleNamespace(arbitrators=[drawn])
    matter = Request(Scope("appeal", uuid4(), ()), appeal=appeal)  # type: ignore[arg-type]
    require_exporter(Actor(drawn, Role.ARBITRATOR), matter, with_documents=False)
    with pytest.raises(AppealNotYours):
        require_exporter(Actor(other, Role.ARBITRATOR), matter, with_documents=False)
    with pytest.raises(NotPermitted):
        require_exporter(Actor(drawn, Role.ARBITRATOR), matter, with_documents=True)
    for scope in (Scope("team", uuid4(), ()), Scope("all")):
        with pytest.raises(NotPermitted):
            require_exporter(Actor(drawn, Role.ARBITRATOR), Request(scope), with_documents=False)
    require_exporter(Actor(other, Role.COMPLIANCE_OFFICER), Request(Scope("all")), True)
    with pytest.raises(NotPermitted):
        require_exporter(Actor(other, Role.EXPERT), matter, with_documents=False)


# --- the verifier stands alone -----------------------------------------------------------------


def test_the_verifier_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(VERIFIER.read_text())
    imported = set()
    for found in ast.walk(tree):
        if isinstance(found, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in found.names}
        elif isinstance(found, ast.ImportFrom):
            assert found.level == 0, "no relative imports"
            imported.add((found.module or "").split(".")[0])
    assert imported - sys.stdlib_module_names - {"__future__"} == {"cryptography"}


def test_huiyan_verify_is_the_console_script_of_the_verifier():
    project = tomllib.loads((VERIFIER.parents[1] / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["huiyan-verify"] == "audit.verify:main"
