"""Issue 9 through the scoring job (`workers.jobs.run_scoring`) and the events it records.

Point 6: a file that would knock a parser over is the team's ``invalid_output``, never a
platform fault. Point 7: the event holds a bounded summary; the full report is a blob named
by its hash. Point 11: ``ScoreComputed`` holds the aggregate figures and the breakdown's
SHA-256; per-case figures and file hashes are only in the blob.

The submission is a real `Submission` aggregate; only the desk around it (the database) and
the stores are stand-ins.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import uuid4

import pytest

from domain.submissions import Submission
from ledger.blobs import BlobStore
from scoring.breakdown import score_track, to_json
from scoring.rules import default_rules_path
from tests.scoring.factory import RULES, load, make_set, save

NOW = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


class _Desk:
    """The submission desk's reporting commands, on one aggregate held in memory."""

    def __init__(self, submission: Submission) -> None:
        self._submission = submission

    def submission(self, ident):
        return self._submission

    def fail_inference(self, ident, **report):
        return self._submission.fail_inference(**report)

    def record_score(self, ident, **report):
        return self._submission.record_score(**report)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def scoring_job(tmp_path, monkeypatch):
    """Run the scoring job on a track's set; returns (outcome, last event, blob store)."""
    from workers import jobs

    home = tmp_path / "home"
    monkeypatch.setenv("HUIYAN_HOME", str(home))
    monkeypatch.setenv("HUIYAN_ENV", "test")
    monkeypatch.delenv("HUIYAN_DATABASE_URL", raising=False)

    def run(track: int, edit=None):
        predictions, truth = make_set(track, tmp_path / "set")
        if edit is not None:
            edit(predictions)
        output_sha256 = "a" * 64
        shutil.copytree(predictions.parent, home / "predictions" / output_sha256)
        submission = Submission(
            contest_id=uuid4(),
            team_id=uuid4(),
            track=track,
            group="self_owned",
            model_kind="bundle",
            model_ref="b" * 64,
            report_sha256="c" * 64,
            testset_sha256="d" * 64,
            truth_sha256=_sha256(truth),
            rules_version=1,
            rules_sha256=RULES.sha256,
            by=uuid4(),
            at=NOW,
        )
        submission.complete_inference(
            job_id="run-1",
            predictions_sha256=_sha256(predictions),
            output_sha256=output_sha256,
            case_seconds={"c000": 1.0},
            model_load_seconds=None,
            peak_ram_bytes=None,
            peak_gpu_bytes=None,
            runner_version="test",
            log_sha256=None,
            now=NOW,
        )
        testset = SimpleNamespace(path=lambda sha256: truth.parent.parent)
        monkeypatch.setattr(jobs, "desk", lambda settings: _Desk(submission))
        rules_document = default_rules_path().read_bytes()
        monkeypatch.setattr(jobs, "rules_of", lambda *arguments: rules_document)
        monkeypatch.setattr(jobs, "testset_store", lambda settings: testset)
        outcome = jobs.run_scoring(str(submission.id), "score-1")
        event = submission.collect_events()[-1]
        return outcome, event, BlobStore(home / "blobs"), (predictions, truth)

    return run


def _state(event) -> dict:
    return {k: v for k, v in vars(event).items() if k not in ("originator_id", "timestamp")}


def _size(event) -> int:
    return len(json.dumps(_state(event), default=str))


def test_json_nested_200000_deep_is_the_teams_invalid_output(scoring_job):
    def nest(predictions):
        predictions.write_text('{"cases": ' + "[" * 200_000 + "]" * 200_000 + "}")

    outcome, event, blobs, _ = scoring_job(6, nest)
    assert outcome == "invalid_output"  # before: RecursionError, a refunded platform fault
    assert type(event).__name__ == "InferenceFailed" and event.reason == "invalid_output"
    message = "JSON nested 200,001 levels deep; the limit is 64"
    assert event.validation_report == [{"case": None, "field": "(file)", "message": message}]


def test_400000_empty_cases_make_a_small_event_and_a_full_report_by_hash(scoring_job):
    def empty(predictions):
        predictions.write_text('{"cases": [' + ",".join(["{}"] * 400_000) + "]}")

    outcome, event, blobs, _ = scoring_job(6, empty)
    assert outcome == "invalid_output"
    assert _size(event) < 20_000  # it was a 37 MB event
    summary = event.validation_summary
    assert summary["problems"] == 400_008
    assert summary["kinds"] == {"cases[].case_id": 400_000, "case_id": 8}
    assert len(event.validation_report) == 50
    report = json.loads(blobs.get(summary["report_sha256"]))
    assert report["problems"] == 400_008 and report["kinds"] == summary["kinds"]
    assert len(report["listed"]) == 100_000 and report["not_listed"] == 300_008


def test_a_metaimage_naming_a_host_file_is_the_teams_invalid_output(scoring_job, tmp_path):
    def detached(predictions):
        (predictions.parent / "c000" / "map.mhd").write_text(
            "ObjectType = Image\nNDims = 3\nDimSize = 16 16 16\nElementType = MET_FLOAT\n"
            f"ElementDataFile = {tmp_path / 'key.raw'}\n"
        )
        document = load(predictions)
        document["cases"][0]["track"]["detection_map"] = "c000/map.mhd"
        save(predictions, document)

    outcome, event, _, _ = scoring_job(5, detached)
    assert outcome == "invalid_output"
    (problem,) = event.validation_report
    assert problem["field"] == "track.detection_map"
    assert "voxels lie in another file" in problem["message"]


def test_a_score_is_recorded_by_hash_without_case_ids(scoring_job):
    outcome, event, blobs, (predictions, truth) = scoring_job(2)
    assert outcome == "scored" and type(event).__name__ == "ScoreComputed"
    full = score_track(2, predictions, truth, RULES).breakdown
    assert blobs.get(event.breakdown_sha256) == to_json(full)  # the whole breakdown, by hash
    stored = json.loads(blobs.get(event.breakdown_sha256))
    assert set(stored["per_case"]) == {"c000", "c001", "c002", "c003", "c004", "c005"}
    recorded = json.dumps(_state(event), default=str)
    for hidden in ("per_case", "c000", "c005", "mask.nii.gz", *full["truth"]["files"].values()):
        assert hidden not in recorded
    assert event.breakdown["primary"] == full["primary"]
    assert event.breakdown["metrics"] == full["metrics"]
    assert event.breakdown["truth"] == {"sha256": full["truth"]["sha256"]}
