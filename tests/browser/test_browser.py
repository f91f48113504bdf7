"""The site in a real browser (Chromium, headless): the public pages in both languages at 1280
and 390 pixels, a privileged sign-in's code, and the content security policy stopping an
injected script that escaping let through. (The whole scenario: test_scenario.py.)

Screenshots land in tests/artifacts/ (git-ignored). Slow-ish: one contest for the module.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.browser.harness import Screen, shoot
from tests.browser.scenario import WORDS
from tests.flows import EXAMPLES, REGISTRATION_TIME

pytestmark = pytest.mark.slow

INJECTED = "<script>window.injected = 1</script>"


def test_the_public_pages_read_in_each_language_at_each_width(screen: Screen) -> None:
    for path, name in (("/", "front"), ("/leaderboard", "leaderboard"), ("/ledger", "ledger"),
                       ("/announcements", "announcements"), ("/sign-in", "sign-in")):  # fmt: skip
        screen.go(path)
        # The browser's preference chose the language: the page says so, and its words are
        # those of that language (the sign-in link, in the header of every page).
        assert screen.page.get_attribute("html", "lang") == WORDS[screen.lang]["lang"]
        assert (
            screen.page.locator("header a[href='/sign-in']").inner_text()
            == (WORDS[screen.lang]["sign in"])
        )
        shoot(screen, f"public-{name}")
    assert screen.errors == []


def test_a_privileged_person_is_refused_without_the_current_code(wide: Screen, live,
                                                                  registered) -> None:  # fmt: skip
    """The organiser's password alone, or with last minute's code, opens nothing; the
    refusal is told in the page's language."""
    organiser = registered.huiyan.people["organiser"]
    earlier = live.tick()
    live.tick()
    for code in ("", organiser.code(earlier)):
        wide.go("/sign-in")
        wide.page.fill("input[name=login]", organiser.login)
        wide.page.fill("input[name=password]", organiser.password)
        wide.page.fill("input[name=code]", code or "")
        wide.page.click("main button[type=submit]")
        wide.page.wait_for_load_state()
        assert wide.page.url.endswith("/sign-in")
        refusal = wide.page.locator(".flash.error").inner_text()
        assert ("Sign-in refused" in refusal) == (wide.lang == "en"), refusal
        assert wide.page.locator("nav a[href^='/organiser']").count() == 0
    shoot(wide, "sign-in-refused")


@pytest.fixture(scope="module")
def scripted_team(registered, tmp_path_factory) -> str:
    """A team whose name is a script, registered through the CLI like any other."""
    folder = tmp_path_factory.mktemp("scripted")
    shutil.copytree(EXAMPLES / "documents", folder / "documents")
    team = yaml.safe_load((EXAMPLES / "team-lijiang.yaml").read_text())
    team["name"] = f"Team {INJECTED}"
    (folder / "team.yaml").write_text(yaml.safe_dump(team, allow_unicode=True))
    huiyan = registered.huiyan
    huiyan.own_account("lead-scripted", clock=REGISTRATION_TIME)
    return huiyan.ok("team", "register", "--file", str(folder / "team.yaml"),
                     who="lead-scripted", clock=REGISTRATION_TIME)  # fmt: skip


def test_a_script_in_a_team_name_is_text_and_never_runs(wide: Screen, scripted_team) -> None:
    wide.go(f"/_probe/team-name/{scripted_team}")
    page = wide.page
    # Escaped, as every page shows it: the name is read as text, tags and all.
    assert page.locator("#escaped").inner_text() == f"Team {INJECTED}"
    # Unescaped (a page that forgot): the browser parsed a script element, and refused to run
    # it, because the policy admits no inline script; nothing else went wrong on the page.
    assert page.locator("#raw script").count() == 1
    assert page.evaluate("window.injected") is None
    assert wide.errors, "the browser reported no refused inline script"
    assert all("Content Security Policy" in error for error in wide.errors), wide.errors
    shoot(wide, "script-in-a-name")
