"""The public leaderboard shows exactly what results publication made public: nothing before
it, ranks and names in the ranks mode, the figures in the full mode; the same lines as
``huiyan results leaderboard``. The contest is judged through the CLI (tests/cli/judging_contest.py,
sandboxed runs: built once for the module)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.cli.judging_contest import (
    EXPERTS,
    JUDGING_TIME,
    TRACK,
    JudgedContest,
    build,
    prepare,
    report_pdf,
)
from tests.flows import Huiyan
from tests.web.site import Visitor, at, site

pytestmark = pytest.mark.slow

GRADES = {"邕江慧影": 5, "Lijiang Vision": 3, "北部湾智影": 4}
DIMENSIONS = ("innovation", "reliability", "technical_soundness", "uniqueness")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JudgedContest]:
    """Three teams in track 7, run, reviewed and graded; nothing published yet."""
    work = tmp_path_factory.mktemp("leaderboard")
    contest = build(Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}"), work)
    prepare(contest)
    clean = report_pdf(work / "beibu-clean.pdf", author="", body="A U-Net.")
    contest.ok("judging", "replace-report", contest.submissions["beibu"], "--report", str(clean),
               who="lead-beibu", clock=JUDGING_TIME)  # fmt: skip
    entries = {line["pseudonym"]: line["team"] for line in prepare(contest)}
    for login in EXPERTS:
        tasks = json.loads(contest.ok("judging", "tasks", who=login, clock=JUDGING_TIME))
        for task in tasks:
            grades = [f"{d}={GRADES[entries[task['pseudonym']]]}" for d in DIMENSIONS]
            args = [arg for grade in grades for arg in ("--grade", grade)]
            contest.ok("judging", "score", task["pseudonym"], *args, who=login,
                       clock=JUDGING_TIME)  # fmt: skip
    yield contest


def lines(page: str, track: str = TRACK) -> list[list[str]]:
    section = page.split(f'data-track="{track}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr data-line>(.*?)</tr>", section, re.S)
    return [[cell.strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


def publish(contest: JudgedContest, mode: str) -> None:
    contest.ok("results", "publish", "--track", TRACK, "--mode", mode, "--freeze-at",
               JUDGING_TIME, clock=JUDGING_TIME)  # fmt: skip


def test_the_leaderboard_shows_only_what_was_published(graded: JudgedContest) -> None:
    app = site(graded.huiyan, JUDGING_TIME)
    visitor = Visitor(app)
    before = visitor.text(f"/leaderboard?track={TRACK}")
    assert lines(before) == []
    assert "data-not-published" in before.split(f'data-track="{TRACK}"', 1)[1]
    for name in GRADES:
        assert name not in before

    publish(graded, "ranks")
    ranks = lines(visitor.text("/leaderboard"))  # the first published track: 7
    cli = json.loads(graded.ok("results", "leaderboard", "--track", TRACK, who="lead-lijiang",
                               clock=JUDGING_TIME))  # fmt: skip
    assert ranks == [[str(line["rank"]), line["team"]] for line in cli["lines"]]
    assert len(ranks) == 3 and ranks[0] == ["1", "邕江慧影"]

    publish(graded, "full")
    at(app, JUDGING_TIME)
    full = lines(Visitor(app).text("/leaderboard"))
    cli = json.loads(graded.ok("results", "leaderboard", "--track", TRACK, who="lead-lijiang",
                               clock=JUDGING_TIME))  # fmt: skip
    assert [row[:2] for row in full] == [[str(line["rank"]), line["team"]] for line in cli["lines"]]
    assert [float(row[2]) for row in full] == pytest.approx(
        [line["composite"] for line in cli["lines"]], abs=1e-4
    )
    assert all(len(row) == 6 for row in full)
    # the other tracks still say so
    other = Visitor(app).text("/leaderboard?track=1")
    assert "data-not-published" in other and not lines(other, "1")


def test_a_long_leaderboard_reads_a_page_at_a_time(graded: JudgedContest, monkeypatch) -> None:
    """Lines are shown a page at a time (here two to a page): together the pages hold every
    line once, in order; a page past the last shows the last."""
    import web.public

    publish(graded, "ranks")
    monkeypatch.setattr(web.public, "LINES_PER_PAGE", 2)
    visitor = Visitor(site(graded.huiyan, JUDGING_TIME))
    first, second = (lines(visitor.text(f"/leaderboard?track={TRACK}&page={n}")) for n in (1, 2))
    assert [row[0] for row in first] == ["1", "2"] and [row[0] for row in second] == ["3"]
    assert lines(visitor.text(f"/leaderboard?track={TRACK}&page=9")) == second
    assert 'data-page="2"' in visitor.text(f"/leaderboard?track={TRACK}")
