"""The organiser's CLI end to end on a SQLite ledger, plus the upload checks."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfWriter

from domain import errors
from services.uploads import check_pdf, merge_pdfs
from tests.flows import EXAMPLES, PASSWORD, Huiyan, form_team

CLOCK = "2026-06-25T23:59:59+08:00"  # a second before the registration deadline


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    """``huiyan`` with its bootstrap organiser signed up (TOTP enrolled)."""
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    huiyan.account("organiser", "organiser")
    return huiyan


@pytest.fixture
def run(huiyan):
    """Runs a command as ``who`` (the organiser unless told), at the test's clock."""

    def invoke(*args: str, stdin: str | None = None, clock: str | None = None, who="organiser"):
        return huiyan(*args, stdin=stdin, clock=clock or CLOCK, who=who)

    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_registration_through_the_cli(run, huiyan, tmp_path):
    ok(run("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml")))
    version = ok(run("rules", "publish", "--file", str(EXAMPLES / "rules-2026.yaml")))
    assert version.startswith("1 ")
    # the organiser registers no team: a team is registered by its leader
    refused = run("team", "register", "--file", str(EXAMPLES / "team-yongjiang.yaml"))
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    team = form_team(huiyan, "yongjiang", clock=CLOCK)
    refused = run("review", "reject", team, "--reason", "x")
    assert refused.exit_code == 2 and "[team.status_forbids]" in refused.output
    assert ok(run("team", "submit", team)) == "submitted"
    ok(run("review", "reject", team, "--reason", "blurred scan"))
    # a second after the registration deadline the rejected team can no longer resubmit
    late = run("team", "submit", team, clock="2026-06-26T00:00:01+08:00")
    assert late.exit_code == 2 and "[registration.closed]" in late.output
    ok(run("team", "submit", team))
    ok(run("review", "approve", team))
    shown = json.loads(ok(run("team", "show", team, "--json")))
    assert shown["status"] == "approved" and shown["language"] == "zh"
    assert len(shown["members"]) == 3  # the leader and the two who accepted
    assert shown["documents"]["identity_proof"]["pages"] == 2  # two PDFs merged into one
    assert [d["decision"] for d in shown["decisions"]] == ["rejected", "approved"]
    assert "韦明远" not in json.dumps(shown, ensure_ascii=False)  # no personal content
    # the same leader (by identity document) cannot form a second team under another
    # account; the refused team leaves no key behind
    huiyan.own_account("copycat", clock=CLOCK)
    keys = tmp_path / "home" / "keys" / "subjects"
    before = sorted(keys.iterdir())
    again = run("team", "register", "--file", str(EXAMPLES / "team-yongjiang.yaml"),
                who="copycat")  # fmt: skip
    assert again.exit_code == 2 and "[team.person_taken]" in again.output
    assert sorted(keys.iterdir()) == before

    beibu = form_team(huiyan, "beibu", clock=CLOCK)
    imported = ok(
        run(
            "blacklist",
            "import",
            "--file",
            str(EXAMPLES / "blacklist-2026.csv"),
            "--source",
            "Credit China",
            "--listed-on",
            "2026-06-01",
        )
    )
    assert imported.splitlines() == ["list 1: 2 entries, 1 disqualified", beibu]
    listed = json.loads(ok(run("team", "list", "--json")))
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id[beibu]["disqualified"] and not by_id[team]["disqualified"]
    match = by_id[beibu]["blacklist_evidence"][0]["match"]
    missing_reason = run("blacklist", "clear", beibu, match, "--reason", " ")
    assert missing_reason.exit_code == 2 and "[decision.reason_required]" in missing_reason.output


def test_privileged_commands_need_a_signed_in_person(run, huiyan):
    ok(run("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml")))
    huiyan.account("e1", "expert")
    refused = run("contest", "call-documents", who="e1")
    assert refused.exit_code == 2 and "[account.not_permitted]" in refused.output
    nobody = huiyan.raw("contest", "call-documents", clock=CLOCK, session="nobody")
    assert nobody.exit_code == 2 and "not signed in" in nobody.output
    unknown = huiyan.raw("login", "--login", "nobody", "--password-stdin", clock=CLOCK,
                         stdin=PASSWORD + "\n", session="nobody")  # fmt: skip
    assert unknown.exit_code == 2 and "wrong login or password" in unknown.output
    ok(run("contest", "call-documents"))


def _pdf(pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(100, 100)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_upload_checks_name_the_reason():
    good = _pdf()
    assert check_pdf(good, name="a.pdf", limit=len(good)).pages == 1
    with pytest.raises(errors.UploadTooLarge):
        check_pdf(good, name="a.pdf", limit=len(good) - 1)
    with pytest.raises(errors.UploadNotPdf):
        check_pdf(b"\x89PNG\r\n\x1a\n" + good, name="scan.png")
    with pytest.raises(errors.UploadUnreadable):
        check_pdf(good[: len(good) // 2], name="cut.pdf")
    with pytest.raises(errors.UploadEncrypted):
        check_pdf(_pdf(password="secret"), name="locked.pdf")
    with pytest.raises(errors.UploadWithoutPages):
        check_pdf(_pdf(pages=0), name="empty.pdf")
    assert merge_pdfs([("a", _pdf(2)), ("b", _pdf(3))], name="m.pdf").pages == 5
