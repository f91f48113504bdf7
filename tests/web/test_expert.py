"""The expert's pages over a judged contest (docs/web/panel.md): nothing before the
declarations are signed; the anonymised queue, the sanitised report, the rubric graded under
signature; and no team identity anywhere an expert can reach.

A new agreement version is published after the review was prepared, so every expert must sign
again before working: the test signs it in the browser."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from pypdf import PdfReader

from tests.cli.judging_contest import JUDGING_TIME, TRACK, JudgedContest
from tests.cli.test_judging import hits
from tests.web.panel import judged_contest, scorer_as_installed, signed_in
from tests.web.site import Visitor, site

pytestmark = pytest.mark.slow

AGREEMENT = "保密协议（第二版）/ confidentiality agreement, version 2: nothing leaves.\n"
PSEUDONYMS = re.compile(r'data-pseudonym="([^"]+)"')
DIMENSIONS = ("innovation", "reliability", "technical_soundness", "uniqueness")


@dataclass
class Judging:
    contest: JudgedContest
    app: Flask

    def expert(self, login: str) -> Visitor:
        return signed_in(self.app, self.contest, login, JUDGING_TIME)

    def password(self, login: str) -> str:
        return self.contest.huiyan.people[login].password

    def pseudonym_of(self, team: str) -> str:
        return next(line["pseudonym"] for line in self.contest.prepared if line["team"] == team)


@pytest.fixture(scope="module")
def judging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judging]:
    work = tmp_path_factory.mktemp("expert")
    with scorer_as_installed():
        contest = judged_contest(work)
    (work / "agreement-2.txt").write_text(AGREEMENT)
    contest.ok("expert", "agreement", "--file", str(work / "agreement-2.txt"), clock=JUDGING_TIME)
    yield Judging(contest, site(contest.huiyan, JUDGING_TIME))


def test_the_queue_stays_closed_until_the_agreement_is_signed(judging: Judging) -> None:
    browser, contest = judging.expert("expert-a"), judging.contest
    entry = f"/expert/tasks/{judging.pseudonym_of('邕江慧影')}"
    for path in ("/expert/", "/expert/tasks.json", entry):
        answer = browser.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == "/expert/declarations"
    page = browser.text("/expert/declarations")
    sha256 = hashlib.sha256(AGREEMENT.encode()).hexdigest()
    assert 'data-agreement="unsigned"' in page and sha256 in page and "第二版" in page
    assert "T7-" not in page

    # a wrong password signs nothing
    before = contest.ledger_size()
    wrong = browser.submit("/expert/declarations", {"sha256": sha256, "password": "not mine"},
                           action="/expert/agreement")  # fmt: skip
    assert wrong.status_code == 400 and contest.ledger_size() == before
    assert browser.get("/expert/").status_code == 302

    signed = browser.submit("/expert/declarations",
                            {"sha256": sha256, "password": judging.password("expert-a")},
                            action="/expert/agreement")  # fmt: skip
    assert signed.status_code == 302 and contest.ledger_size() == before + 1
    assert 'data-agreement="signed"' in browser.text("/expert/declarations")
    queue = browser.text("/expert/")
    assert len(PSEUDONYMS.findall(queue)) >= 2 and "评审任务" in queue
    listed = json.loads(browser.text("/expert/tasks.json"))
    assert sorted(PSEUDONYMS.findall(queue)) == sorted(task["pseudonym"] for task in listed)
    shown = json.loads(contest.ok("expert", "show", "expert-a", clock=JUDGING_TIME))
    assert shown["agreements"][-1]["sha256"] == sha256 and shown["ineligible"] is None


def test_a_declaration_is_made_from_the_form(judging: Judging) -> None:
    browser, contest = judging.expert("expert-b"), judging.contest
    ties = {"organisations": "某示例研究所\n\n", "people": "id_card 11010519491231002X"}
    before = contest.ledger_size()
    wrong = browser.submit("/expert/declarations", {**ties, "password": "not mine"},
                           action="/expert/declaration")  # fmt: skip
    assert wrong.status_code == 400 and contest.ledger_size() == before
    no_country = browser.submit("/expert/declarations",
                                {"people": "passport 12345678",
                                 "password": judging.password("expert-b")},
                                action="/expert/declaration")  # fmt: skip
    assert no_country.status_code == 400 and contest.ledger_size() == before
    assert "country" in no_country.get_data(as_text=True)
    signed = {**ties, "password": judging.password("expert-b")}
    done = browser.submit("/expert/declarations", signed, action="/expert/declaration")
    assert done.status_code == 302 and contest.ledger_size() == before + 1
    shown = json.loads(contest.ok("expert", "show", "expert-b", clock=JUDGING_TIME))
    assert shown["declaration"]["number"] == 2
    assert shown["declaration"]["organisations"] == ["某示例研究所"]
    assert shown["declaration"]["people"] == 1
    # the agreement of version 2 is still unsigned: still no queue
    assert browser.get("/expert/").status_code == 302


def test_the_report_opens_in_the_browser_and_the_grades_are_signed(judging: Judging) -> None:
    browser, contest = judging.expert("expert-a"), judging.contest
    pseudonym = PSEUDONYMS.findall(browser.text("/expert/"))[0]
    page = browser.text(f"/expert/tasks/{pseudonym}")
    report_url = f"/expert/tasks/{pseudonym}/report.pdf"
    assert f'<iframe class="report" src="{report_url}"' in page
    answer = browser.get(report_url)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == f'inline; filename="{pseudonym}.pdf"'
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in answer.headers["Content-Security-Policy"]
    out = contest.work / "cli-report.pdf"
    contest.ok("judging", "report", pseudonym, "--out", str(out), who="expert-a",
               clock=JUDGING_TIME)  # fmt: skip
    assert answer.data == out.read_bytes()  # the sanitised bytes, exactly
    # every other page stays unframeable
    assert browser.get(f"/expert/tasks/{pseudonym}").headers["X-Frame-Options"] == "DENY"
    for grade in range(6):  # the rubric's described grades, from the rules document
        assert f'value="{grade}"' in page
    assert "outstanding; no gaps" in page and "absent or not credible" in page

    grades = {f"grade_{number}": "4" for number in range(len(DIMENSIONS))}
    before = contest.ledger_size()
    incomplete = browser.submit(
        f"/expert/tasks/{pseudonym}", {"grade_0": "4", "password": judging.password("expert-a")}
    )
    assert incomplete.status_code == 400 and contest.ledger_size() == before
    wrong = browser.submit(f"/expert/tasks/{pseudonym}", {**grades, "password": "not mine"})
    assert wrong.status_code == 400 and contest.ledger_size() == before
    assert sheets_of(contest, pseudonym) == 0
    done = browser.submit(f"/expert/tasks/{pseudonym}",
                          {**grades, "password": judging.password("expert-a")})  # fmt: skip
    assert done.status_code == 302 and contest.ledger_size() == before + 1
    assert sheets_of(contest, pseudonym) == 1
    assert "data-graded" in browser.text(f"/expert/tasks/{pseudonym}")
    listed = json.loads(browser.text("/expert/tasks.json"))
    mine = next(task for task in listed if task["pseudonym"] == pseudonym)
    assert mine["scored"] and mine["grades"] == dict.fromkeys(DIMENSIONS, 4)


def sheets_of(contest: JudgedContest, pseudonym: str) -> int:
    progress = json.loads(contest.ok("judging", "progress", "--track", TRACK, clock=JUDGING_TIME))
    return next(line["sheets"] for line in progress if line["pseudonym"] == pseudonym)


def test_an_expert_opens_only_their_own_entries(judging: Judging) -> None:
    contest = judging.contest
    contest.ok("expert", "sign-agreement", who="expert-d", clock=JUDGING_TIME)
    browser = judging.expert("expert-d")
    theirs = judging.pseudonym_of("Lijiang Vision")  # expert-d shares lijiang's organisation
    assert theirs not in browser.text("/expert/")
    for path in (f"/expert/tasks/{theirs}", f"/expert/tasks/{theirs}/report.pdf"):
        assert browser.get(path).status_code == 403
    assert browser.get("/expert/tasks/T7-NONE").status_code == 404


def test_no_team_identity_on_any_page_an_expert_can_reach(judging: Judging) -> None:
    """Every page and download of every expert who may work: the queue, its JSON, each entry's
    page, each report's bytes and text, the declarations; searched for every team name,
    member name, organisation and team id."""
    contest, seen, reached = judging.contest, [], 0
    for login in ("expert-a", "expert-c", "expert-d"):
        if login == "expert-c":
            contest.ok("expert", "sign-agreement", who=login, clock=JUDGING_TIME)
        for language in ("zh", "en"):
            browser = judging.expert(login)
            headers = {"Accept-Language": language}
            browser.submit("/expert/declarations", {"language": language,
                           "next": "/expert/"}, action="/language")  # fmt: skip
            for path in ("/expert/", "/expert/tasks.json", "/expert/declarations"):
                seen.append(browser.get(path, headers=headers).data)
            for pseudonym in PSEUDONYMS.findall(browser.text("/expert/")):
                seen.append(browser.get(f"/expert/tasks/{pseudonym}", headers=headers).data)
                pdf = browser.get(f"/expert/tasks/{pseudonym}/report.pdf").data
                text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
                seen += [pdf, text.encode()]
                reached += 1
    assert reached >= 2 * (2 + 2 + 2)  # three experts, each with their entries, twice
    assert contest.secrets and hits(contest.secrets, seen) == []
