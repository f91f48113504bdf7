"""The arbitrator's pages over a judged, published contest with one appeal (docs/web/panel.md):
the drawn arbitrator sees it, its timeline with every signature checked, the matter as of an
earlier moment, a re-score that gives the same bytes, and a signed ruling; an arbitrator not
drawn is refused every page of it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from tests.cli.judging_contest import APPEAL_TIME, JUDGING_TIME, TRACK, JudgedContest
from tests.web.panel import judged_contest, scorer_as_installed, signed_in
from tests.web.site import Visitor, csrf_token, site

pytestmark = pytest.mark.slow

DIMENSIONS = ("innovation", "reliability", "technical_soundness", "uniqueness")
REASONS = "复核意见：重新计算与记录一致，申诉不成立。\nThe recorded score stands.\n"


@dataclass
class Appealed:
    contest: JudgedContest
    app: Flask
    appeal: str

    def arbitrator(self, login: str) -> Visitor:
        return signed_in(self.app, self.contest, login, APPEAL_TIME)

    def credentials(self, login: str) -> dict[str, str]:
        person = self.contest.huiyan.people[login]
        return {"password": person.password, "code": person.code(APPEAL_TIME) or ""}


@pytest.fixture(scope="module")
def appealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appealed]:
    """Every entry graded by its experts, the results published, and yongjiang's appeal on
    its quality score drawn to arbiter-x (arbiter-y declared a tie to yongjiang)."""
    work = tmp_path_factory.mktemp("arbitrator")
    with scorer_as_installed():
        contest = judged_contest(work)
        for login in ("expert-a", "expert-b", "expert-c", "expert-d"):
            tasks = json.loads(contest.ok("judging", "tasks", who=login, clock=JUDGING_TIME))
            for task in tasks:
                grades = [f"--grade={dimension}=3" for dimension in DIMENSIONS]
                contest.ok("judging", "score", task["pseudonym"], *grades, who=login,
                           clock=JUDGING_TIME)  # fmt: skip
        contest.ok("results", "publish", "--track", TRACK, "--mode", "full", "--freeze-at",
                   JUDGING_TIME, clock=JUDGING_TIME)  # fmt: skip
        reasons = work / "reasons.txt"
        reasons.write_text("The quality score misses our external validation.\n")
        filed = contest.ok("appeal", "file", "--track", TRACK, "--item", "quality",
                           "--reasons", str(reasons), who="lead-yongjiang",
                           clock=APPEAL_TIME).split()  # fmt: skip
        assert filed[1] == "drawn"
        yield Appealed(contest, site(contest.huiyan, APPEAL_TIME), filed[0])


def test_the_drawn_arbitrator_sees_the_appeal_and_its_reasons(appealed: Appealed) -> None:
    browser = appealed.arbitrator("arbiter-x")
    assert f'data-appeal="{appealed.appeal}"' in browser.text("/arbitrator/")
    page = browser.text(f"/arbitrator/appeals/{appealed.appeal}")
    assert "external validation" in page and 'data-status="drawn"' in page


def test_an_arbitrator_not_drawn_is_refused_every_page_of_it(appealed: Appealed) -> None:
    browser = appealed.arbitrator("arbiter-y")
    assert appealed.appeal not in browser.text("/arbitrator/")
    base = f"/arbitrator/appeals/{appealed.appeal}"
    for path in (base, f"{base}/timeline", f"{base}/state?as_of=1"):
        assert browser.get(path).status_code == 403, path
    token = csrf_token(browser.text("/arbitrator/"))
    before = appealed.contest.ledger_size()
    for path in (f"{base}/rescore", f"{base}/ruling"):
        data = {"csrf_token": token, "outcome": "dismissed", "reasons": "x",
                **appealed.credentials("arbiter-y")}  # fmt: skip
        assert browser.post(path, data).status_code == 403, path
    assert appealed.contest.ledger_size() == before


def test_the_timeline_shows_every_signature_checked(appealed: Appealed) -> None:
    page = appealed.arbitrator("arbiter-x").text(f"/arbitrator/appeals/{appealed.appeal}/timeline")
    events = re.findall(r'data-event="([^"]+)"', page)
    assert "Submission.ScoreComputed" in events and "Appeal.Filed" in events
    assert page.count('data-ledger-signature="valid"') == len(events)
    assert 'data-ledger-signature="invalid"' not in page
    assert 'data-personal-signature="invalid"' not in page
    assert page.count('data-personal-signature="valid"') >= 4  # three sheets and the appeal
    assert "✓" in page
    replayed = json.loads(appealed.contest.ok("appeal", "replay", appealed.appeal,
                                              who="arbiter-x", clock=APPEAL_TIME))  # fmt: skip
    assert [line["event"] for line in replayed] == events  # the CLI's replay, line for line


def filed_position(page: str) -> int:
    return int(re.search(r'data-position="(\d+)" data-event="Appeal.Filed"', page).group(1))


def test_the_state_as_of_an_earlier_moment(appealed: Appealed) -> None:
    browser = appealed.arbitrator("arbiter-x")
    base = f"/arbitrator/appeals/{appealed.appeal}"
    filed = filed_position(browser.text(f"{base}/timeline"))
    before = browser.text(f"{base}/state?as_of={filed - 1}")
    assert f'data-as-of-position="{filed - 1}"' in before
    assert f'data-aggregate="{appealed.appeal}"' not in before
    assert 'data-kind="Submission"' in before
    cli = json.loads(appealed.contest.ok("audit", "state", "--as-of", str(filed - 1), "--appeal",
                                         appealed.appeal, clock=APPEAL_TIME))  # fmt: skip
    assert cli["as_of_position"] == filed - 1 and appealed.appeal not in cli["aggregates"]
    at = browser.text(f"{base}/state?as_of={filed}")
    assert f'data-aggregate="{appealed.appeal}" data-kind="Appeal"' in at
    by_time = browser.text(f"{base}/state?as_of={JUDGING_TIME.replace('+', '%2B')}")
    assert f'data-aggregate="{appealed.appeal}"' not in by_time
    wrong = browser.get(f"{base}/state?as_of=yesterday")
    assert wrong.status_code == 400 and 'class="refusal"' in wrong.get_data(as_text=True)


def test_the_rescore_gives_the_same_bytes(appealed: Appealed) -> None:
    browser = appealed.arbitrator("arbiter-x")
    page = f"/arbitrator/appeals/{appealed.appeal}"
    with scorer_as_installed():
        answer = browser.submit(page, {}, action=f"{page}/rescore")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert 'data-rescore="same"' in answer.get_data(as_text=True)


def test_a_signed_ruling_is_recorded(appealed: Appealed) -> None:
    contest, browser = appealed.contest, appealed.arbitrator("arbiter-x")
    page = f"/arbitrator/appeals/{appealed.appeal}"
    ruling = {"outcome": "dismissed", "remedy": "", "reasons": REASONS}
    before = contest.ledger_size()
    wrong = browser.submit(page, {**ruling, "password": "not mine", "code": "000000"},
                           action=f"{page}/ruling")  # fmt: skip
    assert wrong.status_code == 400 and contest.ledger_size() == before
    signed = appealed.credentials("arbiter-x")
    unreasoned = browser.submit(page, {**ruling, "reasons": "", **signed},
                                action=f"{page}/ruling")  # fmt: skip
    assert unreasoned.status_code == 400 and contest.ledger_size() == before
    done = browser.submit(page, {**ruling, **signed},
                          action=f"{page}/ruling")  # fmt: skip
    assert done.status_code == 302 and contest.ledger_size() == before + 1
    shown = json.loads(contest.ok("appeal", "show", appealed.appeal, "--reasons",
                                  clock=APPEAL_TIME))  # fmt: skip
    assert shown["status"] == "dismissed" and shown["ruling_reasons"] == REASONS
    assert 'data-ruling="dismissed"' in browser.text(page)
    # the moment it was filed, before the draw, the appeal was only filed
    filed = filed_position(browser.text(f"{page}/timeline"))
    then = browser.text(f"{page}/state?as_of={filed}")
    assert "&#34;status&#34;: &#34;filed&#34;" in then and "&#34;ruling&#34;: null" in then
    now = browser.text(f"{page}/state?as_of={contest.ledger_size() + 10}")
    assert "&#34;status&#34;: &#34;dismissed&#34;" in now
