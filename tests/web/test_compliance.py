"""The compliance pages on the registered contest: the ledger's health as SQL and the CLI see
it, a verification run from the browser, an event with its receipt, audit bundles that the
offline verifier accepts, and the access log for the audit administrator alone."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from ledger.checkpoint import parse_note
from ledger.merkle import ProofError, verify_inclusion
from tests.audit.bundles import load_verifier
from tests.web.compliance_site import (
    account_id,
    ledger_keys,
    ledger_size,
    position_of,
    receipt_on,
    verified,
    visitor_as,
)
from tests.web.conftest import LOGINS
from tests.web.site import Visitor

VERIFY = load_verifier()


@pytest.fixture(scope="module")
def checkpointed(registered) -> Any:
    """The registered contest with a signed checkpoint of its whole ledger."""
    registered.huiyan.ok("ledger", "checkpoint")
    return registered


def as_role(site: Any, role: str) -> Visitor:
    return visitor_as(site, LOGINS[role])


def test_health_shows_the_true_size_and_the_latest_checkpoint(checkpointed) -> None:
    huiyan = checkpointed.huiyan
    size = ledger_size(huiyan)
    assert size > 10
    note = huiyan.ok("ledger", "checkpoint")  # nothing new: the same checkpoint again
    page = as_role(checkpointed, "compliance_officer").text("/compliance/")
    assert f"data-ledger-size>{size}<" in page
    assert f"data-checkpoint-size>{size}<" in page
    assert note.splitlines()[2] in page  # the signed root
    assert note.splitlines()[-1].split(" ")[-1] in page  # the ledger's signature
    assert "never verified from this site" in page


def test_a_verification_from_the_browser_ends_intact(checkpointed) -> None:
    officer = as_role(checkpointed, "compliance_officer")
    run = verified(officer)
    assert run["state"] == "intact" and run["percent"] == 100
    assert run["size"] == ledger_size(checkpointed.huiyan)
    assert run["checkpoints_checked"] == [run["size"]]
    assert run["who"] == account_id(checkpointed.app, "compliance")
    assert "✓" in run["page"] and "intact" in run["page"]
    # the record of runs: the health page shows the last one, with who and when
    page = officer.text("/compliance/")
    assert "never verified from this site" in page  # the access log's stream is not yet
    assert run["id"] in page and run["who"] in page
    # the access log's own stream verifies too
    assert verified(officer, "access")["state"] == "intact"
    assert "never verified from this site" not in officer.text("/compliance/")


def test_a_verification_needs_the_form(checkpointed) -> None:
    officer = as_role(checkpointed, "compliance_officer")
    assert officer.post("/compliance/verify", {"stream": "contest"}).status_code == 400  # no CSRF
    answer = officer.submit("/compliance/", {"stream": "elsewhere"}, action="/compliance/verify")
    assert answer.status_code == 400
    assert officer.get("/compliance/verify/20260620T100000-deadbeef").status_code == 404
    assert officer.get("/compliance/verify/../../keys/web-secret").status_code == 404


def test_an_event_and_its_proof_against_the_latest_checkpoint(checkpointed) -> None:
    huiyan = checkpointed.huiyan
    position = position_of(huiyan, "Team.Approved")
    page = as_role(checkpointed, "audit_administrator").text(
        f"/compliance/events?position={position}"
    )
    assert "Approved" in page and "approved" in page  # the event and its signed meaning
    assert "data-ledger-signature>valid" in page
    receipt = receipt_on(page)
    assert receipt["format"] == "huiyan-receipt/v1" and receipt["position"] == position
    signed = parse_note(receipt["checkpoint"], ledger_keys(huiyan))
    path = [bytes.fromhex(node) for node in receipt["path"]]
    leaf = bytes.fromhex(receipt["leaf_hash"])
    verify_inclusion(leaf, position, receipt["tree_size"], path, signed.checkpoint.root_hash)
    other = bytes.fromhex(receipt_on(as_role(checkpointed, "compliance_officer").text(
        f"/compliance/events?position={position - 1}"))["leaf_hash"])  # fmt: skip
    with pytest.raises(ProofError):
        verify_inclusion(other, position, receipt["tree_size"], path, signed.checkpoint.root_hash)


def test_a_lookup_of_what_is_not_there(checkpointed) -> None:
    officer = as_role(checkpointed, "compliance_officer")
    size = ledger_size(checkpointed.huiyan)
    missing = officer.get(f"/compliance/events?position={size + 5}")
    assert missing.status_code == 404 and "There is no event at position" in missing.get_data(
        as_text=True
    )
    assert officer.get("/compliance/events?position=-1").status_code == 400
    assert officer.get("/compliance/events?position=<script>").status_code == 400
    assert officer.get("/compliance/events").status_code == 200


def download(visitor: Visitor, data: dict[str, Any]) -> Any:
    return visitor.submit("/compliance/bundle", data)


def test_the_bundle_download_is_the_zip_huiyan_verify_accepts(checkpointed, tmp_path) -> None:
    huiyan = checkpointed.huiyan
    keys = VERIFY.read_keys(huiyan.ok("ledger", "keys").splitlines())
    officer = as_role(checkpointed, "compliance_officer")
    whole = download(officer, {"scope": "all"})
    assert whole.status_code == 200, whole.get_data(as_text=True)
    assert whole.mimetype == "application/zip"
    assert whole.headers["Content-Disposition"].startswith("attachment;")
    path = tmp_path / "all.zip"
    path.write_bytes(whole.get_data())
    verdict = VERIFY.verify_bundle(path, keys)
    assert verdict.problems == [] and verdict.entries == ledger_size(huiyan)
    assert not list((huiyan.home / "cache" / "bundles").iterdir())  # nothing left behind
    # one team's matter, with its personal files (the compliance officer may)
    team = download(officer, {"scope": "team", "team": checkpointed.team, "with_documents": "y"})
    assert team.status_code == 200
    path = tmp_path / "team.zip"
    path.write_bytes(team.get_data())
    assert VERIFY.verify_bundle(path, keys).problems == []
    with zipfile.ZipFile(io.BytesIO(team.get_data())) as archive:
        assert any(name.startswith("documents/") for name in archive.namelist())
    # a flipped byte is found by the same verifier
    data = bytearray(whole.get_data())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    assert VERIFY.verify_bundle(tmp_path / "bad.zip", keys).problems != []


def test_bundle_refusals(checkpointed) -> None:
    auditor = as_role(checkpointed, "audit_administrator")
    refused = download(auditor, {"scope": "all", "with_documents": "y"})
    assert refused.status_code == 403 and "account.not_permitted" in refused.get_data(as_text=True)
    assert download(auditor, {"scope": "team"}).status_code == 400
    unknown = download(
        auditor, {"scope": "appeal", "appeal": "5eed0000-0000-4000-8000-000000000000"}
    )
    assert unknown.status_code in (400, 404) and "Traceback" not in unknown.get_data(as_text=True)
    assert download(auditor, {"scope": "appeal", "appeal": "not-an-id"}).status_code == 400
    assert download(auditor, {}).status_code == 400


def test_the_access_log_is_the_audit_administrators_alone(checkpointed) -> None:
    officer = as_role(checkpointed, "compliance_officer")
    assert officer.get("/compliance/access-log").status_code == 403
    assert "/compliance/access-log" not in officer.text("/compliance/")
    auditor = as_role(checkpointed, "audit_administrator")
    page = auditor.text("/compliance/access-log")
    officer_id = account_id(checkpointed.app, "compliance")
    refusal = next(
        line for line in page.split("<tr>") if "web.compliance.access_log" in line
    )  # the officer's attempt, by the officer, refused
    assert officer_id in refusal and "refused" in refusal
    assert "signin" in page
    filtered = auditor.text("/compliance/access-log?what=read.access_log")
    assert "read.access_log" in filtered and "web.compliance.access_log" not in filtered
    assert auditor.get("/compliance/access-log?since=yesterday").status_code == 400
