"""The organiser's pages (web/organiser.py) over a contest built through the CLI: the review
queue with its five-day deadline, approving and rejecting (signed), the team's documents, the
blacklist import, the contest file and the test sets. What a page decided is checked through
the CLI and the ledger, not only through the page that says so."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from scoring.synth import make_dataset
from tests.flows import EXAMPLES, REGISTRATION_TIME, form_team
from tests.web.site import Visitor, at

# Six days after the teams submitted: past the five days the organiser has to answer.
SIX_DAYS_LATER = "2026-06-26T10:30:00+08:00"
HOSTILE_NAME = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def contest(registered, tmp_path_factory):
    """The registered contest with two more teams formed by their people and submitted at
    REGISTRATION_TIME (lijiang, beibu), and a draft team whose name is a script."""
    huiyan, work = registered.huiyan, tmp_path_factory.mktemp("organiser")
    teams = {}
    for name in ("lijiang", "beibu"):
        teams[name] = form_team(huiyan, name)
        huiyan.ok("team", "submit", teams[name], who=f"lead-{name}", clock=REGISTRATION_TIME)
    huiyan.own_account("lead-hostile")
    hostile = work / "team-hostile.yaml"
    hostile.write_text(
        yaml.safe_dump(
            {
                "contest": "huiyan-2026",
                "name": HOSTILE_NAME,
                "language": "en",
                "leader": {
                    "name": "Eve Example",
                    "identity": {"type": "passport", "country": "SE", "number": "XS1234567"},
                    "organisation": "Example Lab",
                    "email": "eve@hostile.example",
                },
                "tracks": [{"track": 7, "group": "self_owned"}],
            },
            allow_unicode=True,
        )
    )
    teams["hostile"] = huiyan.ok("team", "register", "--file", str(hostile), who="lead-hostile",
                                 clock=REGISTRATION_TIME)  # fmt: skip
    registered.teams = teams
    registered.work = work
    return registered


def organiser(contest, clock: str = REGISTRATION_TIME) -> Visitor:
    at(contest.app, clock)
    visitor = Visitor(contest.app)
    visitor.sign_in(contest.huiyan.people["organiser"], clock)
    return visitor


def ledger_size(contest) -> int:
    engine = sa.create_engine(contest.huiyan.env["HUIYAN_DATABASE_URL"])
    with engine.connect() as connection:
        size = connection.execute(sa.text("SELECT count(*) FROM ledger_events")).scalar_one()
    engine.dispose()
    return size


def team_status(contest, team: str, clock: str) -> dict:
    return json.loads(contest.huiyan.ok("team", "show", team, clock=clock))


def row_of(page: str, team: str) -> str:
    """The review queue's row of one team."""
    start = page.index(f'data-team="{team}"')
    return page[start : page.index("</tr>", start)]


def test_a_whole_registration_review_in_the_browser(contest) -> None:
    lijiang = contest.teams["lijiang"]
    queue = organiser(contest).text("/organiser/registrations")
    row = row_of(queue, lijiang)
    assert 'data-days-left="5"' in row and 'data-overdue="no"' in row, row

    # Six days on, the answer is late: the queue flags it.
    visitor = organiser(contest, SIX_DAYS_LATER)
    row = row_of(visitor.get("/organiser/registrations", headers={"Accept-Language": "en"})
                 .get_data(as_text=True), lijiang)  # fmt: skip
    assert 'data-overdue="yes"' in row and "overdue" in row
    assert "已逾期" in row_of(visitor.text("/organiser/registrations"), lijiang)  # in Chinese
    page = visitor.get(f"/organiser/teams/{lijiang}", headers={"Accept-Language": "en"})
    assert "overdue" in page.get_data(as_text=True)

    # A wrong password signs nothing and records nothing.
    person = contest.huiyan.people["organiser"]
    before = ledger_size(contest)
    refused = visitor.submit(
        f"/organiser/teams/{lijiang}",
        {"approve-password": "not my password", "approve-code": person.code(SIX_DAYS_LATER)},
        action=f"/organiser/teams/{lijiang}/approve",
        follow_redirects=True,
    )
    assert refused.status_code == 200
    assert "flash error" in refused.get_data(as_text=True)
    assert ledger_size(contest) == before
    assert team_status(contest, lijiang, SIX_DAYS_LATER)["status"] == "submitted"

    # The right one approves, under the organiser's signature.
    approved = visitor.submit(
        f"/organiser/teams/{lijiang}",
        {
            "approve-password": person.password,
            "approve-code": person.code(SIX_DAYS_LATER),
            "approve-reason": "documents complete",
        },
        action=f"/organiser/teams/{lijiang}/approve",
        follow_redirects=True,
    )
    assert "flash error" not in approved.get_data(as_text=True)
    shown = team_status(contest, lijiang, SIX_DAYS_LATER)
    assert shown["status"] == "approved"
    assert shown["decisions"][-1]["reason"] == "documents complete"
    assert ledger_size(contest) > before


def test_a_rejection_needs_a_reason_and_the_team_sees_it(contest) -> None:
    beibu = contest.teams["beibu"]
    visitor = organiser(contest)
    person = contest.huiyan.people["organiser"]
    credentials = {"reject-password": person.password,
                   "reject-code": person.code(REGISTRATION_TIME)}  # fmt: skip
    page, action = f"/organiser/teams/{beibu}", f"/organiser/teams/{beibu}/reject"
    without = visitor.submit(page, credentials, action=action, follow_redirects=True,
                             headers={"Accept-Language": "en"})  # fmt: skip
    assert "decision.reason_required" in without.get_data(as_text=True)
    assert team_status(contest, beibu, REGISTRATION_TIME)["status"] == "submitted"

    visitor.submit(page, {**credentials, "reject-reason": "the identity proof is unreadable"},
                   action=action)  # fmt: skip
    shown = team_status(contest, beibu, REGISTRATION_TIME)
    assert shown["status"] == "rejected"
    assert shown["decisions"][-1]["reason"] == "the identity proof is unreadable"


def test_the_organiser_reads_a_team_document_and_the_read_is_logged(contest) -> None:
    lijiang = contest.teams["lijiang"]
    visitor = organiser(contest)
    answer = visitor.get(f"/organiser/teams/{lijiang}/documents/identity_proof")
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF-")
    assert answer.headers["Content-Type"] == "application/pdf"
    log = contest.app.extensions["huiyan"].access
    reads = log.entries(what="read.id_document")
    assert any(entry["subject"] == lijiang and entry["outcome"] == "ok" for entry in reads)


def test_a_team_named_like_a_script_is_text_in_the_queue(contest) -> None:
    page = organiser(contest).text("/organiser/registrations")
    assert HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_hostile_blacklist_file_gets_a_clear_message_and_changes_nothing(contest) -> None:
    visitor = organiser(contest)
    before = ledger_size(contest)
    hostile = b"\x00\xff<script>alert(1)</script>\n\x1b[31m;DROP TABLE teams;\n"
    answer = visitor.submit(
        "/organiser/blacklist",
        {"file": (io.BytesIO(hostile), "list.csv"), "source": "Credit China"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
        content_type="multipart/form-data",
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "The file was not accepted" in text and "UTF-8" in text, text
    assert "<script>alert(1)" not in text
    no_header = visitor.submit(
        "/organiser/blacklist",
        {"file": (io.BytesIO(b"name_of_thing,x\nA,B\n"), "l.csv"), "source": "X"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
        content_type="multipart/form-data",
    )
    assert "header: needs a column named one of" in no_header.get_data(as_text=True)
    assert ledger_size(contest) == before

    listed = visitor.submit(
        "/organiser/blacklist",
        {"file": ((EXAMPLES / "blacklist-2026.csv").open("rb"), "blacklist.csv"),
         "source": "Credit China", "listed_on": "2026-06-01"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
        content_type="multipart/form-data",
    )  # fmt: skip
    text = listed.get_data(as_text=True)
    assert "List 1:" in text and "Credit China" in text


def test_a_contest_file_with_an_error_is_refused_naming_the_field(contest, tmp_path) -> None:
    spec = yaml.safe_load((EXAMPLES / "contest-2026.yaml").read_text())
    spec["slug"] = "huiyan-2027"
    spec["calendar"]["review_sla_days"] = "five"
    visitor = organiser(contest)
    answer = visitor.submit(
        "/organiser/",
        {"file": (io.BytesIO(yaml.safe_dump(spec, allow_unicode=True).encode()), "c.yaml")},
        action="/organiser/contest",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
        content_type="multipart/form-data",
    )
    text = answer.get_data(as_text=True)
    assert "calendar.review_sla_days" in text
    assert str(tmp_path) not in text and "/uploads/" not in text  # never the server's path
    slugs = [found.slug for found in contest.app.extensions["huiyan"].registration.contests()]
    assert slugs == ["huiyan-2026"]


def _archive(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname="testset")
    return buffer.getvalue()


def test_a_test_set_uploaded_becomes_the_track_s_set_in_force(contest) -> None:
    folder = make_dataset(7, 4, contest.work / "testset-7", 0)
    visitor = organiser(contest)
    answer = visitor.submit(
        "/organiser/round",
        {"track": "7", "file": (io.BytesIO(_archive(folder)), "testset.tar.gz")},
        action="/organiser/testsets",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
        content_type="multipart/form-data",
    )
    text = answer.get_data(as_text=True)
    assert "flash error" not in text, text
    services = contest.app.extensions["huiyan"]
    contest_id = services.registration.contests()[0].id
    current = services.submissions.testsets(contest_id).current["7"]
    assert current["cases"] == 4 and current["public"] is False
    assert current["sha256"] in text

    not_an_archive = visitor.submit(
        "/organiser/round",
        {"track": "8", "file": (io.BytesIO(b"just some text\n"), "testset.tar.gz")},
        action="/organiser/testsets",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
        content_type="multipart/form-data",
    )
    assert "not a archive file" in not_an_archive.get_data(as_text=True)
    assert "8" not in services.submissions.testsets(contest_id).current


def test_the_calendar_shows_the_current_phase(contest) -> None:
    page = organiser(contest).get("/organiser/", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert 'Current phase: <strong class="badge">Registration</strong>' in text
    later = organiser(contest, "2026-08-03T10:00:00+08:00").get(
        "/organiser/", headers={"Accept-Language": "en"}
    )
    assert '<strong class="badge">Preliminary round</strong>' in later.get_data(as_text=True)
    at(contest.app, REGISTRATION_TIME)
