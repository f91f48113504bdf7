"""The in-site messages of the later events (runs, publications, rulings), each played into the
projection as the log would hand it: the right team told, in its language, nobody else."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore

from domain.appeals import Appeal
from domain.inbox import Inbox
from domain.inbox_texts import render
from domain.results import Results
from domain.submissions import Submission
from domain.teams import Team
from services.inbox import SQLInbox

AT = datetime.fromisoformat("2026-10-02T10:00:00+08:00")
CONTEST = uuid4()


def made(cls: type, ident: UUID, version: int, **facts: Any) -> Any:
    """An event of ``cls`` with the given facts (every other field empty)."""
    values = {f.name: None for f in dataclasses.fields(cls)}
    values.update(originator_id=ident, originator_version=version, timestamp=AT)
    if "at" in values:
        values["at"] = AT
    if "originator_topic" in values:
        values["originator_topic"] = f"{cls.__module__}:{cls.__qualname__.rpartition('.')[0]}"
    values.update(facts)
    return cls(**values)


@pytest.fixture
def projection(tmp_path: Path) -> Inbox:
    datastore = SQLAlchemyDatastore(url=f"sqlite:///{tmp_path / 'inbox.sqlite3'}")
    # A tracking table of its own name: the library declares each on one shared base.
    view = SQLInbox(datastore, tracking_table_name=f"inbox_tracking_{tmp_path.name}")
    view.create_table()
    return Inbox(view)


def test_runs_publications_and_rulings_reach_the_team_concerned(projection: Inbox) -> None:
    english, chinese = uuid4(), uuid4()
    scored, failed, appeal, results = uuid4(), uuid4(), uuid4(), Results.create_id(CONTEST)
    events = [
        made(Team.Registered, english, 1, contest_id=CONTEST, language="en"),
        made(Team.Registered, chinese, 1, contest_id=CONTEST, language=None),
        made(Submission.Submitted, scored, 1, contest_id=CONTEST, team_id=english, track=7),
        made(Submission.Submitted, failed, 1, contest_id=CONTEST, team_id=chinese, track=7),
        made(Submission.ScoreComputed, scored, 3, gates_passed=True,
             breakdown={"primary": {"name": "mean_macro_f1_auroc", "value": 0.912345}}),
        made(Submission.InferenceFailed, failed, 3, reason="timeout",
             detail="the model ran past 600 s"),
        made(Results.Opened, results, 1, contest_id=CONTEST),
        made(Results.Published, results, 2, track=7, number=1, mode="full"),
        made(Appeal.Filed, appeal, 1, contest_id=CONTEST, team_id=chinese, track=7,
             item="primary_metric"),
        made(Appeal.Ruled, appeal, 3, outcome="dismissed"),
    ]  # fmt: skip
    for position, event in enumerate(events, start=1):
        projection.process_event(event, Tracking("ledger", position))
    view = projection.view
    told = {team: [(m.kind, render(m, view.language(team))) for m in view.messages(team)]
            for team in (english, chinese)}  # fmt: skip
    assert [kind for kind, _ in told[english]] == ["results_published", "scored"]
    assert [kind for kind, _ in told[chinese]] == ["appeal_ruled", "results_published",
                                                   "run_failed"]  # fmt: skip
    (_, (subject, body)) = told[english][1]
    assert subject == "Track 7: your submission was scored" and "0.9123" in body
    assert "passed" in body and str(scored) in body
    (_, (subject, body)) = told[chinese][2]
    assert subject == "赛道 7 的提交运行失败" and "timeout" in body and "600 s" in body
    assert told[chinese][0][1][1].startswith(
        "贵团队对赛道 7 的 primary_metric 提出的申诉已裁决：驳回"
    )
    assert "完整公布" in told[chinese][1][1][1] and "in full" in told[english][0][1][1]
    assert view.max_tracking_id("ledger") == len(events)
