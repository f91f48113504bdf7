"""The whole path of a submission on the laptop default: SQLite, jobs run by the dispatcher."""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.flows import Huiyan, ready_to_submit, submit


def events_of(database_url: str, submission_id: str) -> list[str]:
    """The event names of one submission, in ledger order."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        topics = conn.execute(
            sa.text("SELECT topic, originator_id FROM ledger_events ORDER BY position")
        ).all()
    engine.dispose()
    wanted = uuid.UUID(submission_id)
    return [
        topic.rsplit(".", 1)[1] for topic, originator in topics if as_uuid(originator) == wanted
    ]


def as_uuid(value: object) -> uuid.UUID:
    """SQLite keeps a UUID as 16 bytes, PostgreSQL as a uuid."""
    if isinstance(value, bytes | memoryview):
        return uuid.UUID(bytes=bytes(value))
    return uuid.UUID(str(value))


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    return Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


def show(huiyan: Huiyan, submission: str) -> dict:
    return json.loads(huiyan.ok("submission", "show", submission))


def test_a_baseline_submission_is_run_scored_and_recorded(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    submission = submit(huiyan, team, tmp_path)
    assert huiyan.ok("dispatcher", "--once") == "dispatched 2 events, re-queued 0 jobs"
    shown = show(huiyan, submission)
    assert shown["status"] == "scored"
    score = shown["score"]
    assert 0 < score["primary"]["value"] < 1  # a real model: neither nothing nor perfect
    assert score["gates_passed"] is True and 0 < score["efficiency"] <= 1
    assert "per_case" not in json.dumps(score)  # the team never sees per-case results
    assert events_of(huiyan.env["HUIYAN_DATABASE_URL"], submission) == [
        "Submitted",
        "InferenceStarted",
        "InferenceCompleted",
        "ScoreComputed",
    ]
    # Nothing left to do: a second round dispatches and re-queues nothing.
    assert huiyan.ok("dispatcher", "--once") == ""


def hostile_bundle(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "predict.py").write_text(textwrap.dedent(body))
    return folder


def test_a_crashing_model_is_a_recorded_failure_that_costs_its_slot(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    model = hostile_bundle(tmp_path, "import sys\nprint('boom')\nsys.exit(3)\n")
    submission = submit(huiyan, team, tmp_path, model=model)
    huiyan.ok("dispatcher", "--once")
    failure = show(huiyan, submission)["failure"]
    assert (failure["reason"], failure["exit_code"], failure["refunded"]) == ("crashed", 3, False)
    assert "boom" not in json.dumps(show(huiyan, submission))  # logs only in a debug phase


def test_invalid_predictions_fail_with_the_validation_report_and_are_not_scored(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    model = hostile_bundle(
        tmp_path,
        """
        import json, os
        out = os.environ["HUIYAN_OUTPUT"]
        json.dump({"cases": [{"case_id": "nobody"}]}, open(out + "/predictions.json", "w"))
        """,
    )
    submission = submit(huiyan, team, tmp_path, model=model)
    huiyan.ok("dispatcher", "--once")
    shown = show(huiyan, submission)
    assert shown["status"] == "failed" and shown["score"] is None
    assert shown["failure"]["reason"] == "invalid_output"
    names = events_of(huiyan.env["HUIYAN_DATABASE_URL"], submission)
    assert "ScoreComputed" not in names and names[-1] == "InferenceFailed"


def test_a_platform_fault_is_retried_then_recorded_and_refunded(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    submission = submit(huiyan, team, tmp_path)
    # The hidden test set disappears from the worker's disk: no model is to blame.
    shutil.rmtree(Path(huiyan.env["HUIYAN_HOME"]) / "testsets")
    huiyan.ok("dispatcher", "--once")
    failure = show(huiyan, submission)["failure"]
    assert (failure["reason"], failure["refunded"]) == ("platform_fault", True)
    assert "/" not in failure["detail"]  # the team learns the kind of fault, not our paths
    names = events_of(huiyan.env["HUIYAN_DATABASE_URL"], submission)
    assert names.count("InferenceFailed") == 1


HOSTILE = Path(__file__).resolve().parent / "hostile"


def test_hostile_models_are_recorded_with_the_right_reason_and_the_dispatcher_lives_on(tmp_path):
    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    huiyan.env.update(HUIYAN_RUN_WALL_SECONDS="4", HUIYAN_RUN_MEMORY_GB="0.25")
    team = ready_to_submit(huiyan, tmp_path)
    expected = {
        "cpu_spin": "timeout",
        "memory_bomb": "out_of_memory",
        "symlink_output": "sandbox_violation",
        "stdout_flood": "invalid_output",  # it ends without predictions; its log is capped
    }
    submitted = {}
    for day, name in enumerate(expected):
        clock = f"2026-08-{4 + day:02d}T10:00:00+08:00"  # one a day: never the quota's fault
        submitted[name] = submit(huiyan, team, tmp_path, model=HOSTILE / name, clock=clock)
    huiyan.ok("dispatcher", "--once")
    for name, reason in expected.items():
        failure = show(huiyan, submitted[name])["failure"]
        assert (name, failure["reason"], failure["refunded"]) == (name, reason, False)
