"""The team's whole path through the web application, on one SQLite ledger with the judged
contest of tests/cli/judging_contest.py around it: sign up, register (under a hostile name),
invite and accept, the identity proof, review with a rejection and a resubmission, a baseline
model submitted with its report and run by the dispatcher, its live status, the results with
their figures and ledger proofs, and a signed appeal. The hostile uploads and a wrong signing
password are refused with nothing recorded; another team's member is refused (403).

One scenario (the state builds up, and the sandboxed runs are paid once)."""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.checkpoint import parse_note
from ledger.ledger import Ledger
from ledger.merkle import verify_inclusion
from ledger.settings import Settings
from scoring.baselines import bundle_path
from services.ledger_view import check_receipt
from tests.cli.judging_contest import (
    APPEAL_TIME,
    EXPERTS,
    JUDGING_TIME,
    TRACK,
    JudgedContest,
    build,
    prepare,
    report_pdf,
)
from tests.flows import (
    PASSWORD,
    REGISTRATION_TIME,
    ROUND_TIME,
    Huiyan,
    Person,
    blank_pdf,
    id_card,
)
from tests.web.panel import scorer_as_installed
from tests.web.site import Visitor, at, site

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script>"


def tar_gz(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=folder.name)
    return buffer.getvalue()


def pdf_bytes(work: Path, name: str) -> bytes:
    return blank_pdf(work / name).read_bytes()


def english(visitor: Visitor) -> None:
    visitor.submit("/team/sign-up", {"language": "en", "next": "/"}, action="/language")


def enter(visitor: Visitor, person: Person, clock: str) -> None:
    """Signs in (which starts a new session) and reads the site in English."""
    visitor.sign_in(person, clock)
    english(visitor)


def sign_up(visitor: Visitor, login: str) -> Person:
    answer = visitor.submit(
        "/team/sign-up",
        {
            "login": login,
            "name": f"Name of {login}",
            "email": f"{login}@example.org",
            "password": PASSWORD,
            "again": PASSWORD,
        },
    )
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    return Person(login, PASSWORD)


def quota_of(page: str) -> str:
    """The quota section of the submissions page."""
    return page.split('id="quota"')[1].split("</section>")[0]


def member_record(number: str, organisation: str) -> dict[str, str]:
    return {
        "person": "Member Person",
        "id_type": "id_card",
        "id_number": number,
        "organisation": organisation,
    }


@pytest.fixture(scope="module")
def contest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JudgedContest]:
    work = tmp_path_factory.mktemp("team")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    with scorer_as_installed():  # the sandbox's scorer, from a second worktree too
        yield build(huiyan, work)


def judge_and_publish(contest: JudgedContest) -> None:
    """The CLI's part between the round and the appeals (tests/cli/test_judging.py)."""
    ok = contest.ok
    entries = {line["team"]: line for line in prepare(contest)}
    held = [line for line in entries.values() if line["report"] == "held"]
    for line in held:  # beibu's report names a member: a clean one replaces it
        clean = report_pdf(contest.work / "clean.pdf", author="", body="A U-Net.")
        ok(
            "judging",
            "replace-report",
            str(line["submission"]),
            "--report",
            str(clean),
            who="lead-beibu",
            clock=JUDGING_TIME,
        )
    prepare(contest)
    for login in EXPERTS:
        for task in json.loads(ok("judging", "tasks", who=login, clock=JUDGING_TIME)):
            grades = []
            for dimension in ("innovation", "reliability", "technical_soundness", "uniqueness"):
                grades += ["--grade", f"{dimension}=4"]
            ok("judging", "score", task["pseudonym"], *grades, who=login, clock=JUDGING_TIME)
    ok(
        "results",
        "publish",
        "--track",
        TRACK,
        "--mode",
        "full",
        "--freeze-at",
        JUDGING_TIME,
        clock=JUDGING_TIME,
    )
    ok("ledger", "checkpoint", clock=JUDGING_TIME)


def test_a_team_from_sign_up_to_appeal(contest: JudgedContest) -> None:
    huiyan, work = contest.huiyan, contest.work
    app = site(huiyan, REGISTRATION_TIME)
    size = contest.ledger_size

    # --- sign-up: the passwords must agree; then the account opens ----------------------------
    leader = Visitor(app)
    english(leader)
    before = size()
    differ = leader.submit(
        "/team/sign-up",
        {
            "login": "web-lead",
            "name": "Web Lead",
            "email": "lead@example.org",
            "password": PASSWORD,
            "again": "something else",
        },
    )
    assert differ.status_code == 200 and "The passwords differ." in differ.get_data(as_text=True)
    assert size() == before
    huiyan.people["web-lead"] = sign_up(leader, "web-lead")
    enter(leader, huiyan.people["web-lead"], REGISTRATION_TIME)
    assert "You are not in a team yet." in leader.text("/team/")

    # --- registration: a hostile name shows as text; an invalid ID number is named -----------
    form = {
        "team_name": HOSTILE,
        "language": "en",
        "entry": f"{TRACK}:self_built",
        **member_record(id_card("45010319990303001"), "Web University"),
    }
    wrong = leader.submit("/team/register", {**form, "id_number": "450103199903030011"})
    assert wrong.status_code == 200 and "Document number" in wrong.get_data(as_text=True)
    registered = leader.submit(
        "/team/register",
        {**form, "identity_proof": [(io.BytesIO(pdf_bytes(work, "id.pdf")), "id.pdf")]},
        content_type="multipart/form-data",
    )
    assert registered.status_code == 302, registered.get_data(as_text=True)
    team = re.search(r"registered=([0-9a-f-]{36})", registered.headers["Location"]).group(1)
    page = leader.text("/team/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and HOSTILE not in page
    assert "uploaded, 1 pages" in page

    # --- invitation and acceptance --------------------------------------------------------------
    invited = leader.submit("/team/", {"email": "member@example.org"}, action="/team/invite")
    assert invited.status_code == 302
    assert "Invitation: done." in leader.text("/team/")
    token = huiyan.token_for("member@example.org")
    member = Visitor(app)
    english(member)
    huiyan.people["web-member"] = sign_up(member, "web-member")
    enter(member, huiyan.people["web-member"], REGISTRATION_TIME)
    refused = member.submit(
        "/team/accept",
        {"token": "not-a-token", **member_record(id_card("45010320000404002"), "Web U")},
    )
    assert "[team.invitation_not_found]" in refused.get_data(as_text=True)
    joined = member.submit(
        "/team/accept", {"token": token, **member_record(id_card("45010320000404002"), "Web U")}
    )
    assert joined.status_code == 302
    assert "&lt;script&gt;" in member.text("/team/")

    # --- submit for review, a rejection with its reason, a resubmission, the approval ----------
    confirm = {"confirm": "yes"}
    assert leader.submit("/team/", confirm, action="/team/submit-registration").status_code == 302
    assert "Submitted: waiting for review" in leader.text("/team/")
    huiyan.ok(
        "review",
        "reject",
        team,
        "--reason",
        "The identity proof is not legible.",
        clock=REGISTRATION_TIME,
    )
    page = leader.text("/team/")
    assert "Reason of the rejection: The identity proof is not legible." in page
    replaced = leader.submit(
        "/team/",
        {
            "kind": "identity_proof",
            "files": [
                (io.BytesIO(pdf_bytes(work, "a.pdf")), "a.pdf"),
                (io.BytesIO(pdf_bytes(work, "b.pdf")), "b.pdf"),
            ],
        },
        action="/team/documents",
        content_type="multipart/form-data",
    )
    assert replaced.status_code == 302
    assert "uploaded, 2 pages" in leader.text("/team/")
    leader.submit("/team/", confirm, action="/team/submit-registration")
    huiyan.ok("review", "approve", team, clock=REGISTRATION_TIME)
    assert "Approved" in leader.text("/team/")

    # --- the round: hostile uploads refused, nothing recorded ------------------------------------
    at(app, ROUND_TIME)
    enter(leader, huiyan.people["web-lead"], ROUND_TIME)
    bundle = tar_gz(bundle_path(7))
    report = pdf_bytes(work, "report.pdf")
    not_a_bundle = work / "notes"
    not_a_bundle.mkdir()
    (not_a_bundle / "readme.txt").write_text("no predict.py here\n")

    def submit(model: bytes, report: bytes):
        return leader.submit(
            "/team/submissions",
            {
                "track": TRACK,
                "bundle": (io.BytesIO(model), "model.tar.gz"),
                "report": (io.BytesIO(report), "report.pdf"),
            },
            content_type="multipart/form-data",
        )

    before, quota = size(), quota_of(leader.text("/team/submissions"))
    for model, document, why in [
        (bundle, b"just text, not a PDF", "Technical report: not a pdf file"),
        (bundle, b"%PDF-" + b"0" * (21 << 20), "Technical report: larger than 20 MiB"),
        (tar_gz(not_a_bundle), report, "predict.py"),
    ]:
        answer = submit(model, document)
        assert answer.status_code == 400 and why in answer.get_data(as_text=True), why
        assert "Submission refused" in answer.get_data(as_text=True)
    assert size() == before
    assert quota_of(leader.text("/team/submissions")) == quota  # no slot taken

    # --- a baseline with its report; its live status until scored --------------------------------
    sent = submit(bundle, report)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    submission = sent.headers["Location"].rsplit("/", 1)[1]
    page = leader.text(f"/team/submissions/{submission}")
    assert f'data-poll="/team/submissions/{submission}/status.json"' in page
    assert "team.js" in page and "<script>" not in page.split("</head>")[1]
    waiting = leader.get(f"/team/submissions/{submission}/status.json").get_json()
    assert waiting["status"] == "submitted" and waiting["final"] is False
    huiyan.ok("dispatcher", "--once")
    scored = leader.get(f"/team/submissions/{submission}/status.json").get_json()
    assert scored["status"] == "scored" and scored["final"] is True
    assert scored["score"]["metric"] == "mean_macro_f1_auroc" and scored["reason"] is None
    listed = leader.text("/team/submissions")
    assert "scored" in listed and submission in listed

    # --- another team's member is refused; so is this one on another team's submission -----------
    other = Visitor(app)
    enter(other, huiyan.people["lead-lijiang"], ROUND_TIME)
    assert other.get(f"/team/submissions/{submission}").status_code == 403
    assert other.get(f"/team/submissions/{submission}/status.json").status_code == 403
    theirs = contest.submissions["lijiang"]
    assert leader.get(f"/team/submissions/{theirs}").status_code == 403

    # --- results, published: every indicator, figures, receipts whose proofs verify ---------------
    judge_and_publish(contest)
    at(app, JUDGING_TIME)
    enter(leader, huiyan.people["web-lead"], JUDGING_TIME)
    results = leader.text("/team/results")
    assert "mean_macro_f1_auroc" in results and "macro_auroc_ovr" in results
    assert "not published yet" not in results and 'href="/leaderboard"' in results
    figures = re.findall(r'src="(/team/results/7/figures/\d+\.png)"', results)
    assert figures, "the confusion matrices are drawn"
    png = leader.get(figures[0])
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    receipts = re.findall(r'href="(/team/results/7/receipts/(\d+)\.json)"', results)
    assert len(receipts) == 1 + 3  # the computed score and the three sheets
    settings = Settings.from_env({**huiyan.env, "HUIYAN_CLOCK": JUDGING_TIME})
    keys = Ledger.from_settings(settings).verifier_keys()
    for path, position in receipts:
        proof = json.loads(leader.get(path).data)
        # the public format, which /ledger's checker reads as it is downloaded
        assert proof["format"] == "huiyan-receipt/v1" and proof["position"] == int(position)
        assert check_receipt(proof, keys).position == int(position)
        root = parse_note(proof["checkpoint"], keys).checkpoint.root_hash
        verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            proof["position"],
            proof["tree_size"],
            [bytes.fromhex(p) for p in proof["path"]],
            root,
        )
    theirs_position = int(receipts[0][1]) - 1  # not an entry of this team's result
    assert leader.get(f"/team/results/7/receipts/{theirs_position}.json").status_code == 404

    # --- an appeal: a wrong password records nothing; then signed and filed ----------------------
    at(app, APPEAL_TIME)
    enter(leader, huiyan.people["web-lead"], APPEAL_TIME)
    appeal = {
        "track": TRACK,
        "item": "quality",
        "reasons": "Our model was scored on a <b>wrong</b> set.",
    }
    before = size()
    unsigned = leader.submit("/team/appeals/new", {**appeal, "password": "not my password"})
    assert unsigned.status_code == 400 and "Appeal refused" in unsigned.get_data(as_text=True)
    assert size() == before
    filed = leader.submit("/team/appeals/new", {**appeal, "password": PASSWORD})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    assert size() > before
    shown = leader.text(filed.headers["Location"])
    assert "&lt;b&gt;wrong&lt;/b&gt;" in shown and "drawn" in shown
    assert filed.headers["Location"].rsplit("/", 1)[1] in leader.text("/team/appeals")
    enter(other, huiyan.people["lead-lijiang"], APPEAL_TIME)
    assert other.get(filed.headers["Location"]).status_code == 403
    assert filed.headers["Location"].rsplit("/", 1)[1] not in other.text("/team/appeals")
