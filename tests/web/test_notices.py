"""Announcements (公告), versioned and signed, and the data catalogue of each track
(docs/web/notices.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from domain.contest import Contest
from scoring.synth import make_dataset
from tests.flows import ROUND_TIME, Huiyan, approved_team
from tests.web.site import Visitor, site

HOSTILE = "<script>alert(1)</script> 报名须知"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; 报名须知"
CONTEST = str(Contest.create_id("huiyan-2026"))


@dataclass
class Board:
    huiyan: Huiyan
    app: Flask
    testset: str  # the SHA-256 of track 7's registered set
    cases: int


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """The 2026 contest with an approved team and track 7's hidden test set, at round time."""
    work = tmp_path_factory.mktemp("notices")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    approved_team(huiyan)
    dataset = make_dataset(7, 8, work / "testset-7", 0)
    digest, cases, _ = huiyan.ok("testset", "add", "--track", "7", "--dir", str(dataset)).split()
    yield Board(huiyan, site(huiyan, ROUND_TIME), digest, int(cases))


def signed_in(board: Board, login: str) -> Visitor:
    visitor = Visitor(board.app)
    visitor.sign_in(board.huiyan.people[login], ROUND_TIME)
    return visitor


def ledger_size(board: Board) -> int:
    engine = sa.create_engine(board.huiyan.env["HUIYAN_DATABASE_URL"])
    with engine.connect() as connection:
        size = connection.execute(sa.text("SELECT count(*) FROM ledger_events")).scalar_one()
    engine.dispose()
    return size


def signing(board: Board, login: str = "organiser", password: str | None = None) -> dict:
    person = board.huiyan.people[login]
    return {"password": password or person.password, "code": person.code(ROUND_TIME) or ""}


def texts(title_zh: str, title_en: str, body: str = "正文") -> dict:
    return {"title_zh": title_zh, "title_en": title_en, "body_zh": body,
            "body_en": f"{body} (English)"}  # fmt: skip


def publish(board: Board, visitor: Visitor, title_zh: str, title_en: str) -> str:
    answer = visitor.submit("/announcements/new", {"contest": CONTEST, **texts(title_zh, title_en),
                                                   **signing(board)})  # fmt: skip
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def test_a_wrong_password_records_nothing(board: Board) -> None:
    organiser, before = signed_in(board, "organiser"), ledger_size(board)
    answer = organiser.submit("/announcements/new", {"contest": CONTEST, **texts("通知", "Notice"),
                              **signing(board, password="not my password")})  # fmt: skip
    assert answer.status_code == 200 and 'class="flash error"' in answer.get_data(as_text=True)
    assert ledger_size(board) == before
    assert "通知" not in Visitor(board.app).text("/announcements")


def test_published_revised_and_withdrawn_with_every_version_kept(board: Board) -> None:
    organiser = signed_in(board, "organiser")
    page = publish(board, organiser, HOSTILE, "<script>alert(1)</script> Registration notes")
    public = Visitor(board.app)
    listed = public.text("/announcements")
    assert ESCAPED in listed and HOSTILE not in listed  # the title as text, never as markup
    english = public.get("/announcements", headers={"Accept-Language": "en"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Registration notes" in english.get_data(
        as_text=True
    )

    before = ledger_size(board)
    revised = organiser.submit(f"{page}/revise", {**texts("报名须知（修订）", "Notes, revised"),
                               **signing(board)})  # fmt: skip
    assert revised.status_code == 302 and ledger_size(board) == before + 1
    shown = public.text(page)
    assert shown.index("报名须知（修订）") < shown.index(ESCAPED)  # both versions, latest first
    assert "版本 2" in shown and "版本 1" in shown
    listed = public.text("/announcements")
    assert "报名须知（修订）" in listed and ESCAPED not in listed  # the list: current versions

    unchanged = organiser.submit(f"{page}/revise", {**texts("报名须知（修订）", "Notes, revised"),
                                 **signing(board)})  # fmt: skip
    assert "announcement.unchanged" in unchanged.get_data(as_text=True)
    assert ledger_size(board) == before + 1

    withdrawn = organiser.submit(f"{page}/withdraw", {"reason": "已过时", **signing(board)})
    assert withdrawn.status_code == 302 and ledger_size(board) == before + 2
    shown = public.text(page)
    assert "已过时" in shown and "报名须知（修订）" in shown and ESCAPED in shown
    listed = public.text("/announcements")
    assert listed.index("已撤回") < listed.index("报名须知（修订）")  # below, under "withdrawn"
    again = organiser.submit(f"{page}/revise", {**texts("再改", "Again"), **signing(board)})
    assert "announcement.withdrawn" in again.get_data(as_text=True)


def test_a_team_member_is_refused_the_organiser_forms(board: Board) -> None:
    organiser = signed_in(board, "organiser")
    page = publish(board, organiser, "赛程通知", "Calendar")
    member, before = signed_in(board, "lead-yongjiang"), ledger_size(board)
    token_page = member.text("/announcements")
    assert "/announcements/new" not in token_page and "/revise" not in member.text(page)
    for path in ("/announcements/new", f"{page}/revise", f"{page}/withdraw"):
        assert member.get(path).status_code == 403
        forged = {**texts("x", "y"), "reason": "x", **signing(board, "lead-yongjiang")}
        assert member.submit("/announcements", forged, action=path).status_code == 403
    assert ledger_size(board) == before


def test_the_data_catalogue_lists_every_track_and_the_test_set_by_hash(board: Board) -> None:
    page = Visitor(board.app).text("/data")
    assert [int(n) for n in re.findall(r'id="track-(\d)"', page)] == list(range(1, 9))
    track7 = page[page.index('id="track-7"') : page.index('id="track-8"')]
    assert board.testset in track7 and f"{board.cases} 个病例" in track7 and "隐藏" in track7
    assert "&#34;probabilities&#34;" in track7 or '"probabilities"' in track7
    assert "us" in track7 and "mean_macro_f1_auroc" in track7
    assert board.testset not in page[: page.index('id="track-7"')]  # only where it belongs
    assert "尚未登记" in page[page.index('id="track-1"') : page.index('id="track-2"')]
