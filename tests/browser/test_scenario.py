"""The issue's whole scenario in a real browser (tests/browser/scenario.py), over one contest
built through the CLI harness: the 2026 contest with one team (Lijiang Vision) already in
track 7 with its baseline scored, the panel of experts and arbitrators, a compliance officer
and the track's hidden test set. A new team joins it from the sign-up page on, in the browser.

Every page the scenario visits is photographed in Chinese and English at 1280 and 390 pixels
(tests/artifacts/, git-ignored); no page may scroll sideways at 390 px or leave an error in
its console. Slow: two sandboxed runs and a re-score.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.scenario import EXPERT, STEPS, World
from tests.cli.judging_contest import build
from tests.flows import REGISTRATION_TIME, Huiyan
from tests.web.conftest import Registered
from tests.web.panel import scorer_as_installed
from tests.web.site import site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registered]:
    """This module's contest (it replaces tests/web/conftest.py's for the ``live`` server):
    Lijiang Vision scored in track 7, the panel enrolled with ``EXPERT`` left to sign and
    declare in the browser, and a compliance officer."""
    work = tmp_path_factory.mktemp("scenario")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    with scorer_as_installed():
        contest = build(huiyan, work, ("lijiang",), declaring_later=(EXPERT,))
        huiyan.account("compliance", "compliance_officer", "--name", "Person compliance")
        yield Registered(huiyan, contest.teams["lijiang"], site(huiyan, REGISTRATION_TIME))


def test_the_whole_contest_in_the_browser(chromium, live, registered, tmp_path) -> None:
    world = World(live, registered.huiyan, chromium, tmp_path)
    try:
        with scorer_as_installed():  # the arbitrator's re-score runs the sandbox again
            for step in STEPS:
                step(world)
        for who, screen in world.screens.items():
            assert screen.errors == [], (who, screen.errors)
    finally:
        world.close()
