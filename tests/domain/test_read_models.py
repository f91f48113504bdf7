"""The listings (teams, submissions) kept by the library's projection machinery on the real
ledger, SQLite and PostgreSQL: rows equal the aggregates, a crash mid-page resumes without
double rows, a rebuild from zero gives the same rows, and the listings answer what the log
scans answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import EARLY, ORGANISER
from ledger_scenario import settings_for
from test_submissions import (
    DAY_ONE,
    approved_team,
    completed,
    failed,
    open_contest,
    scored,
    submit,
)

from domain.read_models import Listings, submission_listing, team_listing
from domain.submissions import Submissions
from domain.teams import Team
from ledger.application import open_application
from ledger.read_models import catch_up, rebuild
from services.read_models import SQLListings, listings, open_listings


@pytest.fixture(params=["sqlite", "postgres"])
def desk(request, tmp_path) -> Submissions:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return open_application(Submissions, settings_for(tmp_path, url))


def play(desk: Submissions) -> tuple[object, list, list]:
    """Every event kind the listings keep: teams registered, entering and leaving tracks,
    submitted, approved, rejected, withdrawn, disqualified and cleared; submissions waiting,
    running, inferred, failed, scored and failed in scoring."""
    contest_id = open_contest(desk, per_day=9, total=20)
    first = approved_team(desk, contest_id, "a1", "a2")
    second = approved_team(desk, contest_id, "b1", "b2", approve=False)
    third = approved_team(desk, contest_id, "c1", "c2")
    contest = desk.contest(contest_id)
    by = ORGANISER.account_id
    rejected = desk.team(second)
    rejected.reject(by=by, now=EARLY, reason="no")
    rejected.leave_track(1, contest=contest, by=by, now=EARLY)
    rejected.enter_track(1, "self_built", contest=contest, by=by, now=EARLY)
    desk.save(rejected)
    flagged = desk.team(third)
    flagged.disqualify([{"match": "m1"}, {"match": "m2"}], by=by, now=EARLY)
    flagged.clear_match("m1", reason="other person", by=by, now=EARLY)
    desk.save(flagged)
    waiting, running, inferred, broken, done, lost = (
        submit(desk, first, DAY_ONE + timedelta(days=day // 3)) for day in range(6)
    )
    desk.begin_inference(running, job_id="job-r", runner="x", now=DAY_ONE)
    completed(desk, inferred)
    failed(desk, broken, "crashed")
    completed(desk, done)
    scored(desk, done)
    completed(desk, lost)
    desk.fail_scoring(lost, job_id="score-x", detail="node lost", now=DAY_ONE)
    return contest_id, [first, second, third], [waiting, running, inferred, broken, done, lost]


def expected(desk: Submissions, team_ids, submission_ids):
    return (
        [team_listing(desk.team(ident)) for ident in team_ids],
        [submission_listing(desk.submission(ident)) for ident in submission_ids],
    )


def rows(view: SQLListings, contest_id):
    return view.teams(contest_id), view.submissions()


def test_rows_equal_the_aggregates(desk):
    contest_id, team_ids, submission_ids = play(desk)
    view = listings(desk)
    assert rows(view, contest_id) == expected(desk, team_ids, submission_ids)
    teams = {listing.id: listing for listing in view.teams(contest_id)}
    assert teams[team_ids[2]].disqualified
    assert teams[team_ids[1]].tracks == {1: "self_built", 7: "self_built"}
    scored_row = view.submissions()[4]
    assert (scored_row.metric, scored_row.value, scored_row.gates_passed) == ("cpm", 0.75, True)
    assert scored_row.efficiency == 0.8


def test_the_listings_answer_what_the_log_scans_answered(desk):
    contest_id, team_ids, _ = play(desk)
    view = listings(desk)
    assert view.pending_work() == desk.pending_work()
    for team_id in team_ids:
        assert [s.id for s in view.submissions(team_id=team_id)] == [
            s.id for s in desk.submissions(team_id=team_id)
        ]
    registration_teams = [ident for ident in team_ids]
    assert [t.id for t in view.teams(contest_id)] == registration_teams


def test_new_events_are_read_on_the_next_catch_up_only_once(desk):
    contest_id, team_ids, submission_ids = play(desk)
    projection = open_listings(desk)
    first = catch_up(projection, desk)
    assert first > 0
    assert catch_up(projection, desk) == 0
    later = submit(desk, team_ids[0], DAY_ONE + timedelta(days=3))
    assert catch_up(projection, desk) == 1
    assert rows(projection.view, contest_id) == expected(desk, team_ids, [*submission_ids, later])


class Crash(Exception):
    pass


def test_a_crash_mid_page_resumes_without_double_rows(desk):
    contest_id, team_ids, submission_ids = play(desk)
    projection = open_listings(desk)
    total = catch_up(Listings(SQLListings(desk.factory.datastore)), desk, page=1000)
    projection.view.drop()
    projection.view.create_table()

    class Crashing(Listings):
        seen = 0

        def process_event(self, domain_event, tracking):
            if self.seen == 7:
                raise Crash()
            self.seen += 1
            super().process_event(domain_event, tracking)

    crashing = Crashing(projection.view)
    with pytest.raises(Crash):
        catch_up(crashing, desk, page=3)  # two pages of 3 are in; the third dies at its 2nd
    assert projection.view.max_tracking_id("ledger") is not None
    assert catch_up(projection, desk, page=3) == total - 6
    assert rows(projection.view, contest_id) == expected(desk, team_ids, submission_ids)


def test_a_rebuild_from_zero_gives_the_same_rows(desk):
    contest_id, team_ids, submission_ids = play(desk)
    projection = open_listings(desk)
    processed = catch_up(projection, desk)
    before = rows(projection.view, contest_id)
    again, seconds = rebuild(open_listings(desk), desk)
    assert again == processed and seconds > 0
    assert rows(projection.view, contest_id) == before == expected(desk, team_ids, submission_ids)


def test_two_processes_catching_up_at_once_apply_each_event_once(desk):
    contest_id, team_ids, submission_ids = play(desk)
    one, other = open_listings(desk), open_listings(desk)
    catch_up(one, desk, page=4)
    desk.team(team_ids[2])  # nothing changes
    assert catch_up(other, desk, page=4) == 0
    assert rows(other.view, contest_id) == expected(desk, team_ids, submission_ids)


def test_a_team_registered_in_another_contest_is_not_listed(desk):
    contest_id, team_ids, _ = play(desk)
    assert all(isinstance(desk.team(ident), Team) for ident in team_ids)
    assert listings(desk).teams(desk.contest(contest_id).id) != []
    other = open_contest_elsewhere(desk)
    assert listings(desk).teams(other) == []


def open_contest_elsewhere(desk: Submissions):
    from helpers import CALENDAR, GROUPS, TRACKS

    from domain.contest import Contest, Quota

    contest = Contest.create(
        slug="another-2026",
        name={"zh": "别", "en": "other"},
        groups=GROUPS,
        tracks=TRACKS,
        calendar=CALENDAR,
        quota=Quota(per_day=1, total=1),
        by=ORGANISER.account_id,
        now=EARLY,
    )
    desk.save(contest)
    return contest.id


def test_the_operator_rebuilds_from_zero_and_reads_the_rate(desk, tmp_path):
    from click.testing import CliRunner

    from huiyan_cli import main

    contest_id, team_ids, submission_ids = play(desk)
    view = listings(desk)
    view.forget("ledger")  # a lost position: a plain catch-up would now insert twice
    env = {"HUIYAN_HOME": str(tmp_path), "HUIYAN_DATABASE_URL": desk.factory.datastore.engine.url}
    env["HUIYAN_DATABASE_URL"] = env["HUIYAN_DATABASE_URL"].render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["read-models", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert "events/s" in result.output
    assert rows(view, contest_id) == expected(desk, team_ids, submission_ids)


def test_a_revision_that_remakes_the_listings_fills_them_again_at_the_next_read(desk, tmp_path):
    """docs/migrations.md, rule 3: drop the read model's tables, make them again, empty its
    position; the next read replays the log into them."""
    from ledger.migrations.run import migrate
    from tests.ledger.revisions import location_with

    contest_id, team_ids, submission_ids = play(desk)
    before = rows(listings(desk), contest_id)
    remake = (
        "from ledger.migrations.run import baseline_tables\n"
        "    op.drop_table('rm_submissions')\n"
        "    op.drop_table('rm_teams')\n"
        "    for name in ('rm_teams', 'rm_submissions'):\n"
        "        baseline_tables().tables[name].create(op.get_bind())\n"
        "    op.execute('DELETE FROM listings_tracking')"
    )
    url = desk.factory.datastore.engine.url.render_as_string(hide_password=False)
    migrate(url, location_with(tmp_path, remake))
    assert rows(open_listings(desk).view, contest_id) == ([], [])  # remade, empty
    assert rows(listings(desk), contest_id) == before == expected(desk, team_ids, submission_ids)
