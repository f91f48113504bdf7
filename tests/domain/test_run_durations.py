"""The run durations the metrics' histograms read (domain/run_durations.py,
services/run_durations.py), on PostgreSQL: inference is the sandbox's measured time, scoring
runs from the recorded end of inference to the recorded score, both by track; a page that holds
both events of a run gets both right, a rebuild from zero gives the same, and the dispatcher
keeps them up to date."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa
from ledger_scenario import settings_for
from test_submissions import DAY_ONE, approved_team, completed, open_contest, scored, submit

from domain.submissions import Submissions
from ledger.application import open_application
from ledger.read_models import catch_up, rebuild
from services.run_durations import Durations, durations_table, open_run_durations, read_durations
from workers.pipeline import open_dispatcher

BOUNDS = [5.0, 10.0, 60.0]


@pytest.fixture
def desk(tmp_path, postgres_url) -> Submissions:
    return open_application(Submissions, settings_for(tmp_path, postgres_url))


def play(desk: Submissions) -> None:
    """Four submissions: one waiting, three inferred (1.5 + 2.5 + 4.0 seconds in the sandbox,
    recorded at DAY_ONE), of which two scored 45 and 7 seconds later."""
    team = approved_team(desk, open_contest(desk, per_day=9, total=9), "a1", "a2")
    _, inferred, first, second = (submit(desk, team) for _ in range(4))
    for ident in (inferred, first, second):
        completed(desk, ident)
    scored(desk, first, now=DAY_ONE + timedelta(seconds=45))
    scored(desk, second, now=DAY_ONE + timedelta(seconds=7))


def test_durations_by_stage_and_track_from_the_recorded_events(desk):
    play(desk)
    projection = open_run_durations(desk)
    catch_up(projection, desk, page=4)  # pages that split and join each run's events
    engine = desk.factory.datastore.engine
    assert read_durations(engine, "inference", BOUNDS) == [Durations(1, [0, 3, 3], 3, 24.0)]
    assert read_durations(engine, "scoring", BOUNDS) == [Durations(1, [0, 1, 2], 2, 52.0)]
    rebuild(open_run_durations(desk), desk)
    assert read_durations(engine, "scoring", BOUNDS) == [Durations(1, [0, 1, 2], 2, 52.0)]


def test_before_the_table_is_made_there_are_no_durations(desk):
    assert read_durations(desk.factory.datastore.engine, "inference", BOUNDS) == []


class Queued:
    """A queue that only says yes: these tests look at the dispatcher's read model."""

    def enqueue(self, stage, submission_id):
        return True


def test_the_dispatcher_keeps_the_durations_up_to_date(desk, tmp_path, postgres_url):
    play(desk)
    dispatcher = open_dispatcher(settings_for(tmp_path, postgres_url), queue=Queued())
    dispatcher.catch_up(desk)
    engine = desk.factory.datastore.engine
    assert read_durations(engine, "scoring", BOUNDS) == [Durations(1, [0, 1, 2], 2, 52.0)]


def test_a_track_written_into_the_table_by_hand_never_becomes_a_label(tmp_path) -> None:
    """Someone with SQL access adds rows of made-up tracks: the metrics' label values stay the
    contest's eight tracks, however many such rows there are."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'durations.sqlite3'}")
    table = durations_table(sa.MetaData())
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [
            {"id": uuid4(), "track": 7, "inference_seconds": 3.0},
            *({"id": uuid4(), "track": track, "inference_seconds": 1.0}
              for track in (0, -1, 9, 424242)),
        ])  # fmt: skip
    assert [d.track for d in read_durations(engine, "inference", [5.0])] == [7]
