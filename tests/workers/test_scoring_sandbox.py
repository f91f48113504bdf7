"""The scoring job opens a team's files only inside the process sandbox (issue 9, point 5).

The real scorer is replaced by small stand-ins that report what they can reach, hog memory or
crash: a scorer defeated by hostile files gets no more than a model does.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from uuid import uuid4

import pytest

from ledger.settings import Settings
from workers import scoring_sandbox
from workers.sandbox.process import ProcessSandbox
from workers.scoring_sandbox import ScorerFault, score_in_sandbox

SCORERS = Path(__file__).resolve().parent / "scorers"


@pytest.fixture
def scorer(monkeypatch):
    if problem := ProcessSandbox().isolation_problem:
        pytest.skip(problem)

    def use(name: str) -> None:
        monkeypatch.setattr(scoring_sandbox, "SCORER", SCORERS / name)

    return use


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    predictions, truth = tmp_path / "predictions", tmp_path / "truth"
    predictions.mkdir()
    truth.mkdir()
    (predictions / "predictions.json").write_text('{"cases": []}')
    (truth / "truth.json").write_text('{"cases": []}')
    return predictions, truth


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"HUIYAN_HOME": str(tmp_path / "home"), "HUIYAN_ENV": "test", **env})


def test_the_scorer_sees_the_run_output_and_truth_read_only_and_nothing_else(
    scorer, files, tmp_path, monkeypatch
):
    scorer("spy")
    canary = Path("/tmp") / f"huiyan-scorer-canary-{uuid4().hex}"
    canary.write_text("a secret of the host")
    canary.chmod(0o644)
    listener = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setenv("SPY_CANARY", str(canary))  # not passed: the scorer's env is its own
    try:
        outcome = score_in_sandbox(settings(tmp_path), 7, *files, b"rules")
    finally:
        listener.close()
        canary.unlink()
    seen = json.loads(outcome.breakdown_json)
    assert seen["canary"] in ("KeyError", "FileNotFoundError")
    assert seen["network"] != "connected"
    assert seen["predictions_writable"] is False
    assert seen["predictions"] == ["predictions.json"] and seen["truth"] == ["truth.json"]
    # The scoring code is visible; the project beside it (keys, ledger, instance) is not.
    assert not {"ledger", "instance", "workers", "web"} & set(seen["beside_scoring"])
    assert "home" not in seen["root"] and "var" not in seen["root"]
    if os.geteuid() == 0:
        assert 200_000 <= seen["uid"] < 201_000


def test_a_scorer_out_of_memory_is_the_teams_invalid_output(scorer, files, tmp_path):
    scorer("hog")
    outcome = score_in_sandbox(settings(tmp_path, HUIYAN_RUN_MEMORY_GB="0.25"), 7, *files, b"")
    assert outcome.breakdown_json is None and outcome.invalid is None
    assert outcome.refused == "the predictions made the scorer run out of memory"


def test_a_crashing_scorer_is_the_platforms_fault(scorer, files, tmp_path):
    scorer("crash")
    with pytest.raises(ScorerFault, match="exit 3"):
        score_in_sandbox(settings(tmp_path), 7, *files, b"")
