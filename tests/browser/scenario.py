"""The issue's whole scenario in a real browser, as named steps over one contest.

A team signs up, registers, is approved, submits a baseline model, watches it scored and files
an appeal; an expert reviews; an arbitrator rules; a compliance officer verifies the ledger and
checks a receipt. Each step is a function of the :class:`World`; ``READY`` lists the steps
whose pages exist, in order, and tests/browser/test_scenario.py plays them. The steps in
``PENDING`` are written against the routes the role pages are being built at (/team/...,
/expert/..., /arbitrator/..., /compliance/...) and are not played yet: when a part lands, check
its step against the real page (labels, buttons) and move it to ``READY``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

from tests.browser.harness import Live, Screen, open_screen, shoot
from tests.flows import Huiyan, Person

# What each language calls the things the steps click (the zh catalogues' translations).
WORDS = {
    "en": {"sign in": "Sign in", "sign out": "Sign out", "switch": "中文", "lang": "en"},
    "zh": {"sign in": "登录", "sign out": "退出", "switch": "English", "lang": "zh-CN"},
}


@dataclasses.dataclass
class World:
    """What the steps share: the served contest, the browser, and one tab per person."""

    live: Live
    huiyan: Huiyan
    chromium: object
    lang: str
    width: int
    screens: dict[str, Screen] = dataclasses.field(default_factory=dict)
    notes: dict[str, str] = dataclasses.field(default_factory=dict)  # ids a step leaves
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

    def word(self, key: str) -> str:
        return WORDS[self.lang][key]


Step = Callable[[World], None]


def sign_in(world: World, who: str) -> Screen:
    """``who`` signs in through the form; a privileged person types their phone's code at a
    new minute of the contest's clock (a code is taken once)."""
    person: Person = world.huiyan.people[who]
    screen = world.tab(who)
    screen.go("/sign-in")
    page = screen.page
    page.fill("input[name=login]", person.login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", person.password)  # type: ignore[attr-defined]
    if person.totp_secret:
        page.fill("input[name=code]", person.code(world.live.tick()) or "")  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    return screen


# Steps whose pages exist now --------------------------------------------------------------


def team_leader_signs_in(world: World) -> None:
    """The team's leader signs in with a password alone and sees their team's link."""
    screen = sign_in(world, "lead-yongjiang")
    page = screen.page
    assert "/sign-in" not in page.url  # type: ignore[attr-defined]
    assert page.locator("nav a[href='/team/']").count() == 1  # type: ignore[attr-defined]
    shoot(screen, "team-signed-in")


def organiser_signs_in_with_a_code(world: World) -> None:
    """A privileged person signs in with their TOTP code and reaches their own pages."""
    screen = sign_in(world, "organiser")
    assert screen.page.locator("nav a[href^='/organiser']").count() == 1  # type: ignore[attr-defined]
    shoot(screen, "organiser-signed-in")


def the_language_switch_holds(world: World) -> None:
    """The switch turns the site to the other language, page after page. (Signed in, the
    page was in the team's language, whatever the browser prefers.)"""
    screen = world.tab("lead-yongjiang")
    screen.go("/")
    shown = screen.page.get_attribute("html", "lang")  # type: ignore[attr-defined]
    other = "zh" if shown == "en" else "en"
    screen.page.click(f"button[name=language][value={other}]")  # type: ignore[attr-defined]
    screen.page.wait_for_load_state()  # type: ignore[attr-defined]
    screen.go("/leaderboard")
    assert screen.page.get_attribute("html", "lang") == WORDS[other]["lang"]  # type: ignore[attr-defined]
    shoot(screen, "switched")


def signing_out_ends_it(world: World) -> None:
    """Signing out ends the session: the team's pages ask for a sign-in again."""
    screen = world.tab("lead-yongjiang")
    screen.go("/")
    screen.page.click("form[action='/sign-out'] button")  # type: ignore[attr-defined]
    screen.page.wait_for_load_state()  # type: ignore[attr-defined]
    screen.page.goto(screen.url + "/team/")  # type: ignore[attr-defined]
    assert re.search(r"/sign-in", screen.page.url)  # type: ignore[attr-defined]


# Steps written against the role pages being built (not played yet) -------------------------


def team_signs_up(world: World) -> None:
    """A new leader opens an account at /team/sign-up."""
    screen = world.tab("newcomer")
    screen.go("/team/sign-up")
    page = screen.page
    page.fill("input[name=login]", "lead-newcomer")  # type: ignore[attr-defined]
    page.fill("input[name=name]", "Newcomer")  # type: ignore[attr-defined]
    page.fill("input[name=email]", "new@people.example")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "correct horse battery staple")  # type: ignore[attr-defined]
    page.fill("input[name=confirm]", "correct horse battery staple")  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    shoot(screen, "team-signed-up")


def visit(who: str, path: str, shot: str, *, signs_in: bool = False) -> Step:
    """A placeholder step: ``who`` opens ``path`` and it is photographed. Replace it with the
    step's real actions (fill, sign, check what changed) when its page lands."""

    def step(world: World) -> None:
        screen = sign_in(world, who) if signs_in else world.tab(who)
        screen.go(path)
        shoot(screen, shot)

    step.__name__ = shot.replace("-", "_")
    return step


team_registers = visit("newcomer", "/team/register", "team-register")
organiser_approves = visit("organiser", "/organiser/teams", "organiser-teams")
team_submits_a_baseline = visit("lead-yongjiang", "/team/submissions", "team-submissions")
team_watches_it_scored = visit("lead-yongjiang", "/team/results", "team-results")
team_files_an_appeal = visit("lead-yongjiang", "/team/appeals", "team-appeals")
expert_reviews = visit("expert-a", "/expert/", "expert-tasks", signs_in=True)
arbitrator_rules = visit("arbiter-x", "/arbitrator/", "arbitrator-appeals", signs_in=True)
compliance_verifies_the_ledger = visit("compliance", "/compliance/", "compliance-verify",
                                       signs_in=True)  # fmt: skip
compliance_checks_a_receipt = visit("compliance", "/ledger", "compliance-receipt")

READY: tuple[Step, ...] = (
    team_leader_signs_in,
    the_language_switch_holds,
    organiser_signs_in_with_a_code,
    signing_out_ends_it,
)
PENDING: tuple[Step, ...] = (
    team_signs_up,
    team_registers,
    organiser_approves,
    team_submits_a_baseline,
    team_watches_it_scored,
    team_files_an_appeal,
    expert_reviews,
    arbitrator_rules,
    compliance_verifies_the_ledger,
    compliance_checks_a_receipt,
)
