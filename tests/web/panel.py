"""The judged contest the expert and arbitrator pages are tested on (tests/web/test_expert.py,
tests/web/test_arbitrator.py): built through the CLI harness (tests/cli/judging_contest.py),
its review prepared with every report clean, the application at judging time."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from tests.cli.judging_contest import JUDGING_TIME, JudgedContest, build, prepare, report_pdf
from tests.flows import Huiyan
from tests.web.site import Visitor


@contextlib.contextmanager
def scorer_as_installed() -> Iterator[None]:
    """The scoring sandbox shows the scorer only the ``scoring`` package this process
    imported; its Python finds ``scoring`` where the environment installed it (an editable
    install names one checkout). In a second git worktree the two differ, so the scorer would
    find nothing: show it the installed one. Elsewhere (the main checkout, CI) this changes
    nothing."""
    import pytest

    import workers.scoring_sandbox as sandbox

    url = json.loads(
        importlib.metadata.distribution("huiyan").read_text("direct_url.json") or "{}"
    ).get("url", "")
    installed = Path(urlparse(url).path) / "scoring" if url.startswith("file:") else None
    with pytest.MonkeyPatch.context() as patch:
        if installed is not None and installed.is_dir() and installed != sandbox.SCORING_CODE:
            patch.setattr(sandbox, "SCORING_CODE", installed)
        yield


def judged_contest(work: Path) -> JudgedContest:
    """Three entries of track 7 under review, each assigned to three experts (beibu's held
    report replaced by a clean one, as tests/cli/test_judging.py does)."""
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    contest = build(huiyan, work)
    prepare(contest)
    clean = report_pdf(work / "beibu-clean.pdf", author="", body="A U-Net.")
    contest.ok("judging", "replace-report", contest.submissions["beibu"], "--report", str(clean),
               who="lead-beibu", clock=JUDGING_TIME)  # fmt: skip
    contest.prepared = prepare(contest)
    assert all(line["report"] == "clean" and line["experts"] == 3 for line in contest.prepared)
    return contest


def signed_in(app, contest: JudgedContest, login: str, clock: str) -> Visitor:
    visitor = Visitor(app)
    visitor.sign_in(contest.huiyan.people[login], clock)
    return visitor
