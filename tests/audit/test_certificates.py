"""Award certificates: evidence from a real (SQLite) ledger, the PDF and its embedded data, the
offline check against every field an attacker could change, and ``huiyan certificate verify``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from pypdf import PdfReader, PdfWriter

from audit.certificates import (
    Certificate,
    CertificateInvalid,
    Evidence,
    check_certificate,
    ledger_evidence,
    read_certificate,
    render_certificate,
)
from domain.final_round import FinalRound
from domain.judging import Judging
from ledger.application import open_application
from ledger.keys import Keyring, VerifierKey
from ledger.ledger import Ledger, LedgerError
from ledger.settings import Settings
from tests.ledger.history import NOW, fill, huiyan_for, make_settings

BEIJING = timezone(timedelta(hours=8))
TEAM = "北京协和影像小组"
SCORE = 0.873125
POSITION = 7  # the FinalRound.Awarded event the settings fixture records
TEAM_ID = UUID("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f")


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    fill(settings, 3)  # positions 0..5
    final = FinalRound(contest_id=uuid4(), track=5)  # 6: Opened, 7: Awarded
    final._awarded(
        awards=[{"team_id": TEAM_ID, "award": "first_prize", "rank": 1, "final_score": SCORE}],
        by=uuid4(), at=NOW, personal_signature=None,
    )  # fmt: skip
    open_application(Judging, settings).save(final)
    fill(settings, 1)  # 8, 9: the award is not the last entry
    return settings


@pytest.fixture
def ledger(settings) -> Ledger:
    return Ledger.from_settings(settings)


@pytest.fixture
def keys(ledger) -> dict[str, VerifierKey]:
    return ledger.verifier_keys()


@pytest.fixture
def certificate(ledger) -> Certificate:
    return award(ledger_evidence(ledger, POSITION, now=NOW))


def award(evidence: Evidence, **changes: object) -> Certificate:
    fields = {
        "contest": {"zh": "第一届慧眼杯医学影像人工智能大赛", "en": "First Huiyan Cup"},
        "track": 5,
        "track_name": "前列腺 MRI / prostate MRI",
        "team_name": TEAM,
        "team_id": str(TEAM_ID),
        "award": {"zh": "一等奖", "en": "First prize"},
        "rank": 1,
        "final_score": SCORE,
        "awarded_at": datetime(2026, 9, 1, 10, 0, tzinfo=BEIJING),
        "evidence": evidence,
    }
    return Certificate(**(fields | changes))


def with_evidence(certificate: Certificate, **changes: object) -> Certificate:
    return dataclasses.replace(
        certificate, evidence=dataclasses.replace(certificate.evidence, **changes)
    )


def flip(hex_text: str, at: int = 0) -> str:
    """The same hex string with one digit changed."""
    digit = "1" if hex_text[at] == "0" else "0"
    return hex_text[:at] + digit + hex_text[at + 1 :]


# --- evidence -------------------------------------------------------------------------------


def test_evidence_issues_a_checkpoint_when_none_includes_the_position(ledger, keys):
    assert ledger.latest_checkpoint() is None
    evidence = ledger_evidence(ledger, POSITION, now=NOW)
    assert [c.note for c in ledger.checkpoints()] == [evidence.checkpoint]
    assert evidence.checkpoint.split("\n")[:2] == ["test/ledger", "10"]
    assert evidence.position == POSITION
    assert evidence.leaf_hash == ledger.entry(POSITION).leaf_hash.hex()
    assert evidence.proof == [node.hex() for node in ledger.inclusion_proof(POSITION).path]


def test_evidence_reuses_the_latest_checkpoint_that_includes_the_position(settings, ledger):
    first = ledger.issue_checkpoint(NOW)
    fill(settings, 2)  # positions 10..13, after the checkpoint
    assert ledger_evidence(ledger, POSITION, now=NOW).checkpoint == first.note
    assert len(ledger.checkpoints()) == 1
    later = ledger_evidence(ledger, 12, now=NOW)
    assert later.checkpoint != first.note
    assert later.checkpoint.split("\n")[1] == "14"
    assert [c.note for c in ledger.checkpoints()] == [first.note, later.checkpoint]


@pytest.mark.parametrize("position", [-1, 10, 100])
def test_evidence_for_a_position_the_ledger_does_not_hold_is_refused(ledger, position):
    with pytest.raises(LedgerError, match="no entry at position"):
        ledger_evidence(ledger, position, now=NOW)


# --- the PDF --------------------------------------------------------------------------------


def test_render_then_read_gives_the_certificate_back(certificate):
    pdf = render_certificate(certificate)
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert read_certificate(pdf) == certificate


def test_rendering_is_deterministic_and_depends_on_the_certificate(certificate):
    pdf = render_certificate(certificate)
    assert render_certificate(dataclasses.replace(certificate)) == pdf
    assert render_certificate(dataclasses.replace(certificate, rank=2)) != pdf


def test_the_page_shows_the_award_in_both_languages_and_the_evidence(certificate):
    text = PdfReader(io.BytesIO(render_certificate(certificate))).pages[0].extract_text()
    assert TEAM in text
    assert "一等奖" in text and "First prize" in text
    assert "第一届慧眼杯医学影像人工智能大赛" in text
    assert certificate.evidence.leaf_hash in text
    assert f"position    {POSITION}" in text
    assert "tree size 10" in text
    assert certificate.evidence.checkpoint.split("\n")[2] in text  # the root hash
    assert "huiyan certificate verify" in text


def test_a_certificate_needs_both_languages_and_a_time_zone(certificate):
    with pytest.raises(ValueError, match="award needs exactly zh and en"):
        dataclasses.replace(certificate, award={"zh": "一等奖"})
    with pytest.raises(ValueError, match="UTC offset"):
        dataclasses.replace(certificate, awarded_at=datetime(2026, 9, 1, 10, 0))


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "minutes of the jury"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a PDF file"),
        (b"\x00garbage bytes\xff" * 50, "not a PDF file"),
        (b"%PDF-1.7\n" + b"\x00garbage\xff" * 50, "not a readable PDF"),
        (blank_pdf(), "not a huiyan award certificate (no /HuiyanCertificate in the PDF)"),
    ],
)
def test_what_is_not_a_certificate_is_refused_on_one_line(data, message):
    with pytest.raises(CertificateInvalid) as refused:
        read_certificate(data)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def with_info(pdf: bytes, value: str) -> bytes:
    """The PDF with its embedded certificate data replaced, as a forger would do it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata({"/HuiyanCertificate": value})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def edited_json(pdf: bytes, edit: Callable[[dict], object]) -> bytes:
    record = json.loads(PdfReader(io.BytesIO(pdf)).metadata["/HuiyanCertificate"])
    edit(record)
    return with_info(pdf, json.dumps(record))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda r: r.pop("evidence"),
            "not a valid huiyan award certificate: the certificate lacks evidence",
        ),
        (lambda r: r.update(rank="1"), "rank has the wrong type (str)"),
        (lambda r: r.update(track=True), "track has the wrong type (bool)"),
        (lambda r: r.update(format="huiyan-certificate/v0"), "unknown certificate format"),
        (lambda r: r.update(awarded_at="1 September"), "awarded_at is not an ISO 8601 time"),
        (lambda r: r.update(award={"zh": "一等奖"}), "award needs exactly zh and en"),
        (lambda r: r["evidence"].update(proof="ab"), "evidence proof has the wrong type"),
        (
            lambda r: r["evidence"].update(signer="me"),
            "evidence has unknown signer",
        ),
    ],
)
def test_embedded_data_of_the_wrong_shape_is_refused(certificate, edit, message):
    with pytest.raises(CertificateInvalid) as refused:
        read_certificate(edited_json(render_certificate(certificate), edit))
    assert message in str(refused.value)


def test_embedded_data_that_is_not_json_is_refused(certificate):
    with pytest.raises(CertificateInvalid, match="not JSON"):
        read_certificate(with_info(render_certificate(certificate), "{not json"))


# --- the offline check ----------------------------------------------------------------------


def test_a_genuine_certificate_checks_with_the_ledger_keys(certificate, keys):
    assert check_certificate(certificate, trusted_keys=keys) == []


def test_a_genuine_certificate_read_from_its_pdf_checks(certificate, keys):
    pdf = render_certificate(certificate)
    assert check_certificate(read_certificate(pdf), trusted_keys=keys) == []


def test_keys_that_did_not_sign_the_checkpoint_fail_it(certificate, tmp_path):
    stranger = Keyring(tmp_path / "stranger", "test/ledger").signing_key().verifier
    problems = check_certificate(certificate, trusted_keys={stranger.key_id: stranger})
    assert len(problems) == 1
    assert problems[0].startswith("checkpoint: checkpoint is not signed by a known key")


def replace_line(note: str, index: int, value: str) -> str:
    lines = note.split("\n")
    lines[index] = value
    return "\n".join(lines)


def other_root(note: str) -> str:
    root = base64.b64decode(note.split("\n")[2])
    return replace_line(note, 2, base64.b64encode(bytes([root[0] ^ 1]) + root[1:]).decode())


def other_signature(note: str) -> str:
    dash, name, blob = note.split("\n")[4].split(" ")
    raw = base64.b64decode(blob)
    forged = base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()
    return replace_line(note, 4, f"{dash} {name} {forged}")


TAMPERING = {
    "leaf hash changed": (lambda e: {"leaf_hash": flip(e.leaf_hash)}, "inclusion: "),
    "leaf hash not hex": (lambda e: {"leaf_hash": "zz" * 32}, "leaf hash: "),
    "position moved up": (lambda e: {"position": e.position + 1}, "inclusion: "),
    "position moved down": (lambda e: {"position": e.position - 1}, "inclusion: "),
    "position past the tree": (lambda e: {"position": 6}, "inclusion: "),
    "checkpoint root changed": (lambda e: {"checkpoint": other_root(e.checkpoint)}, "checkpoint: "),
    "checkpoint size changed": (
        lambda e: {"checkpoint": replace_line(e.checkpoint, 1, "5")},
        "checkpoint: ",
    ),
    "checkpoint signature changed": (
        lambda e: {"checkpoint": other_signature(e.checkpoint)},
        "checkpoint: ",
    ),
    "checkpoint signature removed": (
        lambda e: {"checkpoint": e.checkpoint.split("\n\n")[0] + "\n"},
        "checkpoint: ",
    ),
    "proof hash changed": (lambda e: {"proof": [flip(e.proof[0]), *e.proof[1:]]}, "inclusion: "),
    "proof hash dropped": (lambda e: {"proof": e.proof[:-1]}, "inclusion: "),
    "proof hash added": (lambda e: {"proof": [*e.proof, e.leaf_hash]}, "inclusion: "),
    "proof hash not hex": (lambda e: {"proof": ["xy" * 32, *e.proof[1:]]}, "proof: "),
}


@pytest.mark.parametrize("tampering", TAMPERING, ids=list(TAMPERING))
def test_each_tampered_field_fails_with_a_named_problem(certificate, keys, tampering):
    change, kind = TAMPERING[tampering]
    tampered = with_evidence(certificate, **change(certificate.evidence))
    problems = check_certificate(tampered, trusted_keys=keys)
    assert len(problems) == 1, problems
    assert problems[0].startswith(kind), problems


def test_a_genuine_checkpoint_of_another_size_does_not_prove_the_entry(
    settings, ledger, certificate, keys
):
    """Signed, but not the tree the proof was made for: the size comes from the checkpoint."""
    fill(settings, 1)
    newer = ledger.issue_checkpoint(NOW)
    problems = check_certificate(
        with_evidence(certificate, checkpoint=newer.note), trusted_keys=keys
    )
    assert len(problems) == 1 and problems[0].startswith("inclusion: "), problems
    assert "tree of size 12" in problems[0]


def test_edited_evidence_in_the_pdf_fails_the_check(certificate, keys):
    pdf = render_certificate(certificate)
    forged = read_certificate(edited_json(pdf, lambda r: r["evidence"].update(position=3)))
    assert forged.evidence.position == 3
    problems = check_certificate(forged, trusted_keys=keys)
    assert len(problems) == 1 and problems[0].startswith("inclusion: "), problems


# --- huiyan certificate verify --------------------------------------------------------------


@pytest.fixture
def pdf_file(certificate, tmp_path) -> Path:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate(certificate))
    return path


@pytest.fixture
def keys_file(settings, tmp_path) -> Path:
    path = tmp_path / "ledger-keys.txt"
    path.write_text(huiyan_for(settings, "ledger", "keys").output)
    return path


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    return result.output


def test_verify_prints_the_facts_and_valid(settings, pdf_file, certificate):
    result = huiyan_for(settings, "certificate", "verify", str(pdf_file))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "valid"
    assert f"team        {TEAM}" in lines
    assert "award       一等奖 / First prize" in lines
    assert f"position    {POSITION}" in lines
    assert f"leaf hash   {certificate.evidence.leaf_hash}" in lines


def test_verify_offline_with_exported_keys_only(settings, pdf_file, keys_file, tmp_path):
    elsewhere = make_settings(tmp_path / "auditor", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    result = huiyan_for(elsewhere, "certificate", "verify", str(pdf_file), "--keys", str(keys_file))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "valid"


def test_verify_a_forged_certificate_exits_1_with_the_problem(settings, pdf_file):
    forged = edited_json(
        pdf_file.read_bytes(),
        lambda r: r["evidence"].update(leaf_hash=flip(r["evidence"]["leaf_hash"])),
    )
    pdf_file.write_bytes(forged)
    result = huiyan_for(settings, "certificate", "verify", str(pdf_file))
    assert result.exit_code == 1, result.output
    assert "NOT VALID" in result.output
    assert f"  inclusion: the leaf hash at position {POSITION} is not proven" in result.output


def test_verify_with_keys_of_another_ledger_exits_1(settings, pdf_file, tmp_path):
    stranger = Keyring(tmp_path / "stranger", "test/ledger").signing_key().verifier
    (tmp_path / "stranger.txt").write_text(stranger.encode() + "\n")
    result = huiyan_for(
        settings, "certificate", "verify", str(pdf_file), "--keys", str(tmp_path / "stranger.txt")
    )
    assert result.exit_code == 1, result.output
    assert "  checkpoint: checkpoint is not signed by a known key" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read certificate"),
        (b"garbage", "not a PDF file"),
        (blank_pdf(), "not a huiyan award certificate"),
    ],
)
def test_verify_unusable_input_exits_2_on_one_line(settings, tmp_path, content, message):
    path = tmp_path / "input.pdf"
    if content is not None:
        path.write_bytes(content)
    assert message in one_line_error(huiyan_for(settings, "certificate", "verify", str(path)))


def test_verify_without_any_keys_exits_2(pdf_file, tmp_path):
    bare = make_settings(tmp_path / "bare", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    output = one_line_error(huiyan_for(bare, "certificate", "verify", str(pdf_file)))
    assert "no verifier keys" in output


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read --keys"), (b"not a key\n", "not a verifier key")]
)
def test_verify_with_unusable_keys_exits_2(settings, pdf_file, tmp_path, content, message):
    path = tmp_path / "keys.txt"
    if content is not None:
        path.write_bytes(content)
    output = one_line_error(
        huiyan_for(settings, "certificate", "verify", str(pdf_file), "--keys", str(path))
    )
    assert message in output


# --- --against-ledger -----------------------------------------------------------------------


def sql(settings: Settings, statement: str, **params: object) -> None:
    engine = sa.create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def verify_against(settings: Settings, pdf_file: Path):
    return huiyan_for(settings, "certificate", "verify", str(pdf_file), "--against-ledger")


def test_against_the_ledger_that_holds_it(settings, pdf_file):
    result = verify_against(settings, pdf_file)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "valid"


def test_against_a_ledger_whose_entry_has_another_leaf(settings, pdf_file):
    sql(
        settings,
        f"UPDATE ledger_events SET leaf_hash = :leaf WHERE position = {POSITION}",
        leaf=b"\1" * 32,
    )
    result = verify_against(settings, pdf_file)
    assert result.exit_code == 1, result.output
    assert f"  ledger: the entry at position {POSITION} has leaf hash {'01' * 32}" in result.output


def test_against_a_ledger_whose_entry_was_edited(settings, pdf_file):
    sql(
        settings,
        f"UPDATE ledger_events SET state = :state WHERE position = {POSITION}",
        state=b"{}",
    )
    result = verify_against(settings, pdf_file)
    assert result.exit_code == 1, result.output
    assert f"  ledger: the entry at position {POSITION} does not hash to its leaf" in result.output


def test_against_a_ledger_without_that_entry(settings, pdf_file):
    sql(settings, f"DELETE FROM ledger_events WHERE position >= {POSITION}")
    result = verify_against(settings, pdf_file)
    assert result.exit_code == 1, result.output
    assert f"  ledger: no entry at position {POSITION}" in result.output


def test_against_a_ledger_that_is_not_there_exits_2(settings, pdf_file, tmp_path):
    missing = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    result = huiyan_for(
        settings,
        "certificate",
        "verify",
        str(pdf_file),
        "--against-ledger",
        "--database-url",
        missing,
    )
    assert "no ledger database at" in one_line_error(result)
    assert not (tmp_path / "missing.sqlite3").exists()


def test_against_a_ledger_whose_award_names_another_team_or_rank(settings, ledger, tmp_path):
    """Evidence copied from a genuine certificate onto another team's (or another rank's)
    certificate passes the offline check, but the ledger's award says otherwise."""
    evidence = ledger_evidence(ledger, POSITION, now=NOW)
    for changes, why in (
        ({"team_id": str(uuid4()), "team_name": "别的队"}, "does not name this team"),
        ({"rank": 2}, "gives this team rank 1"),
    ):
        path = tmp_path / "forged.pdf"
        path.write_bytes(render_certificate(award(evidence, **changes)))
        result = verify_against(settings, path)
        assert result.exit_code == 1, result.output
        assert why in result.output


def test_against_a_ledger_whose_entry_is_no_award(settings, ledger, tmp_path):
    path = tmp_path / "not-an-award.pdf"
    path.write_bytes(render_certificate(award(ledger_evidence(ledger, 3, now=NOW))))
    result = verify_against(settings, path)
    assert result.exit_code == 1 and "is not an award" in result.output, result.output
