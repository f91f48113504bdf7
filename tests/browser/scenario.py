"""The issue's whole scenario in a real browser, as named steps over one contest
(tests/browser/test_scenario.py plays ``STEPS`` in order).

A new team signs up, registers and is approved by the organiser; in the round it submits the
baseline of track 7 and watches its status page turn to "scored"; an expert signs the
agreement, declares, and grades an anonymous entry; the results are published; the team
appeals, the arbitrator drawn reads the matter's timeline, re-scores and rules; a compliance
officer verifies the ledger, looks up an event and checks the team's receipt in the public
checker. What the CLI does between the pages (preparing the review, the other experts'
grades, publication) goes through the CLI harness, at the live clock.

Every step asserts what it changed (a status, a ✓, a row), and photographs each page it visits
in both languages at both widths (harness.photograph).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from domain.messages import MESSAGES
from scoring.baselines import bundle_path
from tests.browser.harness import Live, Screen, open_screen, photograph
from tests.cli.judging_contest import APPEAL_TIME, EXPERTS, JUDGING_TIME, TRACK, report_pdf
from tests.flows import PASSWORD, ROUND_TIME, Huiyan, Person, blank_pdf, id_card

# What each language calls the things the steps look for (the zh catalogues' translations).
WORDS = {
    "en": {"sign in": "Sign in", "sign out": "Sign out", "switch": "中文", "lang": "en"},
    "zh": {"sign in": "登录", "sign out": "退出", "switch": "English", "lang": "zh-CN"},
}
LEADER = "lead-newcomer"
MEMBER = "newcomer-lu"
EXPERT = "expert-a"  # signs the agreement and declares in the browser (enrol_panel leaves it)
ARBITRATOR = "arbiter-x"  # arbiter-y declared a tie to the newcomer's university
TEAM_NAME = "新锐影像"
UNIVERSITY = "广西示例大学"


@dataclasses.dataclass
class World:
    """What the steps share: the served contest, the browser, one tab per person, and what
    a step leaves for a later one (``notes``: ids, a receipt)."""

    live: Live
    huiyan: Huiyan
    chromium: object
    work: Path
    lang: str = "zh"
    width: int = 1280
    screens: dict[str, Screen] = dataclasses.field(default_factory=dict)
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)
    _closers: list[Iterator[Screen]] = dataclasses.field(default_factory=list)

    def tab(self, who: str) -> Screen:
        """``who``'s own browser context (own cookies), opened at first use."""
        if who not in self.screens:
            opened = open_screen(self.chromium, self.live, self.lang, self.width)
            self.screens[who] = next(opened)
            self._closers.append(opened)
        return self.screens[who]

    def close(self) -> None:
        for opened in self._closers:
            next(opened, None)

    def cli(self, *args: str, who: str | None = "organiser") -> str:
        """A command through the CLI harness at the live clock, a minute on (a privileged
        person's code is then a new one)."""
        return self.huiyan.ok(*args, who=who, clock=self.live.tick())

    def code(self, who: str) -> str:
        """The code ``who``'s phone shows a minute on (for a signed decision)."""
        return self.huiyan.people[who].code(self.live.tick()) or ""


Step = Callable[[World], None]


def language(screen: Screen) -> str:
    return "zh" if screen.page.get_attribute("html", "lang").startswith("zh") else "en"  # type: ignore[attr-defined]


def said(screen: Screen, key: str) -> str:
    """A domain message (domain/messages.py) in the page's language."""
    return MESSAGES[key][language(screen)]


def sign_in(world: World, who: str) -> Screen:
    """``who`` signs in through the form (a fresh session: the tab's cookies are dropped); a
    privileged person types their phone's code at a new minute of the contest's clock."""
    person: Person = world.huiyan.people[who]
    screen = world.tab(who)
    screen.page.context.clear_cookies()  # type: ignore[attr-defined]
    screen.go("/sign-in")
    page = screen.page
    page.fill("input[name=login]", person.login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", person.password)  # type: ignore[attr-defined]
    if person.totp_secret:
        page.fill("input[name=code]", person.code(world.live.tick()) or "")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("main button[type=submit]")  # type: ignore[attr-defined]
    assert "/sign-in" not in page.url, page.locator(".flash").all_inner_texts()  # type: ignore[attr-defined]
    return screen


def submit_form(screen: Screen, selector: str) -> None:
    """Presses the button of the form ``selector`` and waits for the answer, which must not
    be an error page."""
    page = screen.page
    with page.expect_navigation() as answer:  # type: ignore[attr-defined]
        page.click(f"{selector} button")  # type: ignore[attr-defined]
    status = answer.value.status if answer.value is not None else None
    assert status is not None and status < 400, (page.url, status, page.locator(  # type: ignore[attr-defined]
        ".flash").all_inner_texts())  # fmt: skip


def text(screen: Screen, selector: str) -> str:
    return screen.page.locator(selector).inner_text()  # type: ignore[attr-defined]


def tar_gz(folder: Path) -> Path:
    archive = folder.parent / f"{folder.name}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as packed:
        packed.add(folder, arcname=folder.name)
    archive.write_bytes(buffer.getvalue())
    return archive


# --- registration ------------------------------------------------------------------------------


def sign_up(world: World, who: str, name: str, *, shot: str | None = None) -> None:
    """``who`` opens their own account at /team/sign-up and is sent to sign in."""
    screen = world.tab(who)
    screen.go("/team/sign-up")
    if shot:
        photograph(screen, shot)
    page = screen.page
    page.fill("input[name=login]", who)  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=email]", f"{who}@newcomer.example")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.fill("input[name=again]", PASSWORD)  # type: ignore[attr-defined]
    submit_form(screen, "main form")
    assert "/sign-in" in page.url  # type: ignore[attr-defined]
    world.huiyan.people[who] = Person(who, PASSWORD)


def own_record(screen: Screen, name: str, first17: str) -> None:
    """A person's own record in the member fields (team/_member_fields.html)."""
    page = screen.page
    page.fill("input[name=person]", name)  # type: ignore[attr-defined]
    page.select_option("select[name=id_type]", "id_card")  # type: ignore[attr-defined]
    page.fill("input[name=id_number]", id_card(first17))  # type: ignore[attr-defined]
    page.fill("input[name=organisation]", UNIVERSITY)  # type: ignore[attr-defined]


def team_signs_up(world: World) -> None:
    """A new leader opens their own account."""
    sign_up(world, LEADER, "韦新锐", shot="team-sign-up")


def team_registers(world: World) -> None:
    """The leader registers the team (name, language, track 7, their own record, the
    identity proof PDF), enters a second track on the team's page, and submits for review."""
    screen = sign_in(world, LEADER)
    page = screen.page
    screen.go("/team/")
    photograph(screen, "team-no-team")
    screen.go("/team/register")
    photograph(screen, "team-register")
    page.fill("input[name=team_name]", TEAM_NAME)  # type: ignore[attr-defined]
    page.select_option("select[name=language]", "zh")  # type: ignore[attr-defined]
    page.select_option("select[name=entry]", f"{TRACK}:self_built")  # type: ignore[attr-defined]
    own_record(screen, "韦新锐", "45010319990505003")
    page.set_input_files("input[name=identity_proof]", str(blank_pdf(world.work / "id.pdf")))  # type: ignore[attr-defined]
    submit_form(screen, "main form")
    found = re.search(r"registered=([0-9a-f-]{36})", page.url)  # type: ignore[attr-defined]
    assert found, page.url  # type: ignore[attr-defined]
    world.notes["team"] = found.group(1)
    assert text(screen, "h1") == TEAM_NAME
    assert page.locator("#documents .ok").count() == 1  # type: ignore[attr-defined]  # the proof
    assert page.get_attribute("#review .badge", "data-status") == "draft"  # type: ignore[attr-defined]
    # a second track, on the team's page
    page.select_option("#tracks select[name=entry]", "2:self_owned")  # type: ignore[attr-defined]
    submit_form(screen, "#tracks form")
    assert page.locator("#tracks li").count() == 2  # type: ignore[attr-defined]
    # a team has two people at least: the leader invites one, who signs up and accepts
    page.fill("#members input[name=email]", f"{MEMBER}@newcomer.example")  # type: ignore[attr-defined]
    submit_form(screen, "#members form")
    sign_up(world, MEMBER, "陆新")
    member = sign_in(world, MEMBER)
    member.go("/team/accept")
    photograph(member, "team-accept")
    member.page.fill("input[name=token]", world.huiyan.token_for(f"{MEMBER}@newcomer.example"))  # type: ignore[attr-defined]
    own_record(member, "陆新", "45010320000606004")
    submit_form(member, "main form")
    assert text(member, "h1") == TEAM_NAME
    screen.go("/team/")
    assert page.locator("#members tr").count() == 1 + 2  # type: ignore[attr-defined]
    submit_form(screen, "#review form")
    assert page.get_attribute("#review .badge", "data-status") == "submitted", text(screen, "main")  # type: ignore[attr-defined]
    photograph(screen, "team-submitted")


def organiser_approves(world: World) -> None:
    """The organiser (password and code) finds the team first in the queue and approves it
    under their signature (password and a new code)."""
    team = world.notes["team"]
    screen = sign_in(world, "organiser")
    page = screen.page
    screen.go("/organiser/registrations")
    row = page.locator(f"tr[data-team='{team}']")  # type: ignore[attr-defined]
    assert row.count() == 1 and row.get_attribute("data-overdue") == "no"
    photograph(screen, "organiser-registrations")
    with page.expect_navigation():  # type: ignore[attr-defined]
        row.locator("a").click()
    photograph(screen, "organiser-team")
    page.fill("input[name=approve-password]", world.huiyan.people["organiser"].password)  # type: ignore[attr-defined]
    page.fill("input[name=approve-code]", world.code("organiser"))  # type: ignore[attr-defined]
    submit_form(screen, f"form[action='/organiser/teams/{team}/approve']")
    assert page.locator(".flash.error").count() == 0, text(screen, "main")  # type: ignore[attr-defined]
    assert page.locator(f"form[action='/organiser/teams/{team}/approve']").count() == 0  # type: ignore[attr-defined]
    photograph(screen, "organiser-approved")
    leader = world.tab(LEADER)
    leader.go("/team/")
    assert leader.page.get_attribute("#review .badge", "data-status") == "approved"  # type: ignore[attr-defined]


# --- the round ---------------------------------------------------------------------------------


def team_submits_a_baseline(world: World) -> None:
    """In the round, the team uploads the baseline of track 7 (a .tar.gz) with its report;
    the upload form posts with a progress bar and lands on the submission's status page."""
    world.live.move(ROUND_TIME)
    screen = sign_in(world, LEADER)
    page = screen.page
    screen.go("/team/submissions")
    assert page.locator("#quota tr[data-track]").count() == 2  # type: ignore[attr-defined]
    photograph(screen, "team-submissions")
    report = report_pdf(world.work / "newcomer-report.pdf", author="",
                        body="甲状腺结节\nThe track's baseline, unchanged.")  # fmt: skip
    page.select_option("select[name=track]", TRACK)  # type: ignore[attr-defined]
    page.set_input_files("input[name=bundle]", str(tar_gz(bundle_path(7))))  # type: ignore[attr-defined]
    page.set_input_files("input[name=report]", str(report))  # type: ignore[attr-defined]
    with page.expect_navigation(url=re.compile(r"/team/submissions/[0-9a-f-]{36}$")):  # type: ignore[attr-defined]
        page.click("#submit button")  # type: ignore[attr-defined]
    world.notes["submission"] = page.url.rsplit("/", 1)[1]  # type: ignore[attr-defined]
    assert text(screen, "[data-field=label]") == said(screen, "overview.status.submitted")
    assert page.is_visible("[data-field=waiting]")  # type: ignore[attr-defined]
    photograph(screen, "team-submission-waiting")


def team_watches_it_scored(world: World) -> None:
    """The dispatcher runs the model in the sandbox while the status page is open; the page
    (team.js polling its JSON) turns to "scored" with the score, without being reloaded."""
    screen = world.tab(LEADER)
    page = screen.page
    page.evaluate("window.stillTheSamePage = true")  # type: ignore[attr-defined]
    dispatched = world.cli("dispatcher", "--once")
    assert dispatched.startswith("dispatched"), dispatched
    scored = said(screen, "overview.status.scored")
    page.wait_for_function(  # type: ignore[attr-defined]
        "label => document.querySelector('[data-field=label]').textContent === label",
        arg=scored, timeout=30_000,
    )  # fmt: skip
    assert page.evaluate("window.stillTheSamePage") is True  # type: ignore[attr-defined]
    assert page.is_visible("[data-field=score]")  # type: ignore[attr-defined]
    assert "mean_macro_f1_auroc" in text(screen, "[data-field=score-text]")
    assert not page.is_visible("[data-field=waiting]")  # type: ignore[attr-defined]
    photograph(screen, "team-submission-scored")


# --- the review --------------------------------------------------------------------------------


def expert_signs_the_declarations(world: World) -> None:
    """At judging time the expert finds the queue closed until they sign the agreement in
    force and declare their ties (none); both signed with their password."""
    world.live.move(JUDGING_TIME)
    screen = sign_in(world, EXPERT)
    page = screen.page
    screen.go("/expert/")
    assert page.url.endswith("/expert/declarations")  # type: ignore[attr-defined]
    assert page.locator("[data-agreement=unsigned]").count() == 1  # type: ignore[attr-defined]
    assert page.locator("[data-declaration=none]").count() == 1  # type: ignore[attr-defined]
    photograph(screen, "expert-declarations")
    password = world.huiyan.people[EXPERT].password
    page.fill("#agreement input[name=password]", password)  # type: ignore[attr-defined]
    submit_form(screen, "#agreement form")
    assert page.locator("[data-agreement=signed]").count() == 1  # type: ignore[attr-defined]
    page.fill("#declaration input[name=password]", password)  # type: ignore[attr-defined]
    submit_form(screen, "#declaration form")
    assert page.locator("#declaration p.ok[data-declaration]").count() == 1  # type: ignore[attr-defined]
    photograph(screen, "expert-declared")


def organiser_prepares_the_review(world: World) -> None:
    """Through the CLI: both entries admitted with clean reports, three experts each."""
    entries = json.loads(world.cli("judging", "prepare", "--track", TRACK))
    assert len(entries) == 2, entries
    assert all(e["report"] == "clean" and e["experts"] == 3 for e in entries), entries


def expert_grades_an_entry(world: World) -> None:
    """The expert opens the queue, an entry and its sanitised report, grades every dimension
    of the rubric and signs; the entry is then graded in the queue."""
    screen = world.tab(EXPERT)
    page = screen.page
    screen.go("/expert/")
    rows = page.locator("#queue tbody tr")  # type: ignore[attr-defined]
    assert rows.count() >= 1
    photograph(screen, "expert-queue")
    pseudonym = rows.first.get_attribute("data-pseudonym")
    assert pseudonym and pseudonym.startswith("T7-")
    with page.expect_navigation():  # type: ignore[attr-defined]
        rows.first.locator("a").click()
    report = page.request.get(
        world.live.url + page.locator("a[target=_blank]").get_attribute("href")
    )  # type: ignore[attr-defined]
    assert report.status == 200 and report.body().startswith(b"%PDF")
    assert 'filename="' + pseudonym + '.pdf"' in report.headers["content-disposition"]
    photograph(screen, "expert-task")
    # A pointer click here is lost now and then while the framed report (Chromium's PDF
    # viewer) is still laying itself out; the choice is the page's own click event instead.
    for number in range(4):
        choice = page.locator(f"input[name=grade_{number}][value='4']")  # type: ignore[attr-defined]
        choice.dispatch_event("click")
        assert choice.is_checked(), number
    page.fill("#rubric input[name=password]", world.huiyan.people[EXPERT].password)  # type: ignore[attr-defined]
    submit_form(screen, "#rubric form")
    assert page.locator("[data-graded]").count() == 1  # type: ignore[attr-defined]
    photograph(screen, "expert-graded")
    screen.go("/expert/")
    assert page.locator(f"tr[data-pseudonym='{pseudonym}'] .ok").count() == 1  # type: ignore[attr-defined]


def the_panel_completes_and_results_are_published(world: World) -> None:
    """Through the CLI: every other sheet, the review complete, the results published in
    full, and a checkpoint that the receipts prove against."""
    for login in EXPERTS:
        for task in json.loads(world.cli("judging", "tasks", who=login)):
            if task["scored"]:
                continue
            grades = []
            for dimension in ("innovation", "reliability", "technical_soundness", "uniqueness"):
                grades += ["--grade", f"{dimension}=3"]
            world.cli("judging", "score", task["pseudonym"], *grades, who=login)
    progress = json.loads(world.cli("judging", "progress", "--track", TRACK))
    assert all(line["complete"] for line in progress), progress
    moment = world.live.clock.isoformat()
    world.cli("results", "publish", "--track", TRACK, "--mode", "full", "--freeze-at", moment)
    world.cli("ledger", "checkpoint")


def team_reads_its_results(world: World) -> None:
    """The team's results: its rank and every indicator, and a receipt for each recorded
    score, in the public format (kept for the compliance officer's check)."""
    screen = sign_in(world, LEADER)
    page = screen.page
    screen.go("/team/results")
    links = page.locator(f"a[href^='/team/results/{TRACK}/receipts/']")  # type: ignore[attr-defined]
    assert links.count() == 1 + 3  # the computed score and the three sheets
    photograph(screen, "team-results")
    answer = page.request.get(world.live.url + links.first.get_attribute("href"))  # type: ignore[attr-defined]
    assert answer.status == 200
    world.notes["receipt"] = answer.json()
    assert world.notes["receipt"]["format"] == "huiyan-receipt/v1"
    screen.go("/leaderboard")
    assert TEAM_NAME in text(screen, "main")
    photograph(screen, "leaderboard-published")


# --- the appeal --------------------------------------------------------------------------------


def team_files_an_appeal(world: World) -> None:
    """In the appeal window the leader appeals against the quality score, signed with their
    password; the appeal is drawn to an arbitrator at once."""
    world.live.move(APPEAL_TIME)
    screen = sign_in(world, LEADER)
    page = screen.page
    screen.go("/team/appeals/new")
    photograph(screen, "team-appeal-new")
    page.select_option("select[name=track]", TRACK)  # type: ignore[attr-defined]
    page.select_option("select[name=item]", "quality")  # type: ignore[attr-defined]
    page.fill("textarea[name=reasons]", "我们认为质量分数应按外部验证集复核。")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    submit_form(screen, "main form")
    found = re.search(r"/team/appeals/([0-9a-f-]{36})$", page.url)  # type: ignore[attr-defined]
    assert found, page.url  # type: ignore[attr-defined]
    world.notes["appeal"] = found.group(1)
    assert page.get_attribute(".badge[data-status]", "data-status") == "drawn"  # type: ignore[attr-defined]
    photograph(screen, "team-appeal")
    screen.go("/team/appeals")
    assert world.notes["appeal"] in page.content()  # type: ignore[attr-defined]
    photograph(screen, "team-appeals")


def arbitrator_rules(world: World) -> None:
    """The arbitrator drawn (password and code) opens the appeal; every personal signature of
    the matter's timeline shows ✓; the re-score gives the same bytes; the ruling is signed."""
    appeal = world.notes["appeal"]
    screen = sign_in(world, ARBITRATOR)
    page = screen.page
    screen.go("/arbitrator/")
    assert page.locator(f"tr[data-appeal='{appeal}']").count() == 1  # type: ignore[attr-defined]
    photograph(screen, "arbitrator-appeals")
    screen.go(f"/arbitrator/appeals/{appeal}/timeline")
    events = page.locator("#timeline tbody tr")  # type: ignore[attr-defined]
    kinds = [row.get_attribute("data-event") for row in events.all()]
    assert "Appeal.Filed" in kinds and "Submission.ScoreComputed" in kinds, kinds
    assert page.locator("[data-ledger-signature=invalid]").count() == 0  # type: ignore[attr-defined]
    assert page.locator("[data-personal-signature=invalid]").count() == 0  # type: ignore[attr-defined]
    signed = page.locator("[data-personal-signature=valid]")  # type: ignore[attr-defined]
    assert signed.count() >= 2 and set(signed.all_inner_texts()) == {"✓"}
    photograph(screen, "arbitrator-timeline")
    screen.go(f"/arbitrator/appeals/{appeal}")
    photograph(screen, "arbitrator-appeal")
    submit_form(screen, "#rescore form")
    assert page.locator("[data-rescore=same]").count() == 1, text(screen, "#rescore")  # type: ignore[attr-defined]
    photograph(screen, "arbitrator-rescored", both_languages=False)
    page.select_option("#ruling select[name=outcome]", "dismissed")  # type: ignore[attr-defined]
    page.fill("#ruling textarea[name=reasons]", "复核结果与记录逐字节一致，维持原分数。")  # type: ignore[attr-defined]
    page.fill("#ruling input[name=password]", world.huiyan.people[ARBITRATOR].password)  # type: ignore[attr-defined]
    page.fill("#ruling input[name=code]", world.code(ARBITRATOR))  # type: ignore[attr-defined]
    submit_form(screen, "#ruling form")
    assert page.locator("[data-ruling=dismissed]").count() == 1, text(screen, "main")  # type: ignore[attr-defined]
    photograph(screen, "arbitrator-ruled")
    leader = world.tab(LEADER)
    leader.go(f"/team/appeals/{appeal}")
    assert leader.page.get_attribute(".badge[data-status]", "data-status") == "dismissed"  # type: ignore[attr-defined]


# --- compliance --------------------------------------------------------------------------------


def compliance_verifies_the_ledger(world: World) -> None:
    """The compliance officer (password and code) starts a verification of the contest's
    ledger and watches its page follow the run to "intact"; then looks up the event of the
    team's receipt: its ledger signature is valid and its receipt is shown."""
    screen = sign_in(world, "compliance")
    page = screen.page
    screen.go("/compliance/")
    photograph(screen, "compliance-health")
    assert page.is_checked("input[name=stream][value=contest]")  # type: ignore[attr-defined]
    submit_form(screen, "form[action='/compliance/verify']")
    assert "/compliance/verify/" in page.url  # type: ignore[attr-defined]
    page.wait_for_selector("[data-verification][data-finished=yes]", timeout=60_000)  # type: ignore[attr-defined]
    assert page.locator("[data-state] .ok").count() == 1, text(screen, "main")  # type: ignore[attr-defined]
    photograph(screen, "compliance-verified")
    screen.go("/compliance/")
    page.fill("input[name=position]", str(world.notes["receipt"]["position"]))  # type: ignore[attr-defined]
    submit_form(screen, "form[action='/compliance/events']")
    assert page.get_attribute("[data-ledger-signature]", "class") == "ok"  # type: ignore[attr-defined]
    shown = json.loads(text(screen, "[data-receipt]"))
    assert shown["leaf_hash"] == world.notes["receipt"]["leaf_hash"]
    photograph(screen, "compliance-event")


def compliance_checks_a_receipt(world: World) -> None:
    """The team's receipt, pasted into the public checker, is checked in the browser
    (WebCrypto): ✓; with one character of its leaf hash changed: ✗."""
    screen = world.tab("compliance")
    page = screen.page
    receipt = world.notes["receipt"]
    screen.go("/ledger")
    for changed, verdict in ((False, "✓"), (True, "✗")):
        given = dict(receipt)
        if changed:
            leaf = given["leaf_hash"]
            given["leaf_hash"] = ("1" if leaf[0] == "0" else "0") + leaf[1:]
        page.fill("textarea[name=receipt]", json.dumps(given, indent=2))  # type: ignore[attr-defined]
        page.evaluate("document.querySelector('[data-receipt-result]').hidden = true")  # type: ignore[attr-defined]
        page.click("form[data-receipt-form] button")  # type: ignore[attr-defined]
        page.wait_for_selector("[data-receipt-result]:not([hidden])")  # type: ignore[attr-defined]
        result = page.locator("[data-receipt-result]")  # type: ignore[attr-defined]
        assert result.inner_text().startswith(verdict), result.inner_text()
        assert result.get_attribute("data-where") == "browser"
        assert (result.get_attribute("data-code") == "ok") != changed
        photograph(screen, f"ledger-receipt-{'bad' if changed else 'good'}", both_languages=False)


def signing_out_ends_it(world: World) -> None:
    """Signing out ends the session: the team's pages ask for a sign-in again."""
    screen = world.tab(LEADER)
    screen.go("/")
    with screen.page.expect_navigation():  # type: ignore[attr-defined]
        screen.page.click("form[action='/sign-out'] button")  # type: ignore[attr-defined]
    screen.page.goto(screen.url + "/team/")  # type: ignore[attr-defined]
    assert "/sign-in" in screen.page.url  # type: ignore[attr-defined]


STEPS: tuple[Step, ...] = (
    team_signs_up,
    team_registers,
    organiser_approves,
    team_submits_a_baseline,
    team_watches_it_scored,
    expert_signs_the_declarations,
    organiser_prepares_the_review,
    expert_grades_an_entry,
    the_panel_completes_and_results_are_published,
    team_reads_its_results,
    team_files_an_appeal,
    arbitrator_rules,
    compliance_verifies_the_ledger,
    compliance_checks_a_receipt,
    signing_out_ends_it,
)
