"""``huiyan score``: the breakdown it prints, and its exit codes on bad input and bad usage."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from scoring.cli import score
from scoring.rules import default_rules_path
from tests.scoring.factory import load, make_set, save


def _run(*args: str):
    return CliRunner().invoke(score, list(args))


@pytest.fixture
def track2(tmp_path):
    return make_set(2, tmp_path, cases=2)


def test_json_breakdown_names_everything_needed_to_recompute(track2):
    predictions, truth = track2
    result = _run(
        "--track", "2", "--predictions", str(predictions), "--truth", str(truth), "--json"
    )
    assert result.exit_code == 0, result.output
    breakdown = json.loads(result.output)
    assert breakdown["rules"] == {
        "version": "2026.1",
        "sha256": hashlib.sha256(default_rules_path().read_bytes()).hexdigest(),
    }
    assert (
        breakdown["predictions"]["sha256"] == hashlib.sha256(predictions.read_bytes()).hexdigest()
    )
    assert breakdown["truth"]["sha256"] == hashlib.sha256(truth.read_bytes()).hexdigest()
    mask = predictions.parent / "c000" / "mask.nii.gz"
    assert (
        breakdown["predictions"]["files"]["c000/mask.nii.gz"]
        == hashlib.sha256(mask.read_bytes()).hexdigest()
    )
    assert {"huiyan", "monai", "scikit-learn", "picai_eval"} <= set(breakdown["scoring_code"])
    assert breakdown["gates"]["passed"] is True
    assert breakdown["primary"] == {"name": "mean_dice_surface_dice", "value": 1.0}


def test_human_output_lists_metrics_gates_and_versions(track2, tmp_path):
    predictions, truth = track2
    plots = tmp_path / "plots"
    result = _run(
        "--track",
        "2",
        "--predictions",
        str(predictions),
        "--truth",
        str(truth),
        "--plots",
        str(plots),
    )
    assert result.exit_code == 0, result.output
    for text in (
        "rules 2026.1",
        "gate authenticity: passed",
        "primary mean_dice_surface_dice",
        "dice.tumour",
        "predictions sha256",
    ):
        assert text in result.output
    assert (plots / "malignancy_roc.png").read_bytes().startswith(b"\x89PNG")


def test_invalid_predictions_exit_1_with_one_line_per_problem(track2):
    predictions, truth = track2
    document = load(predictions)
    document["cases"][0]["track"]["mask"] = "/etc/passwd"
    document["cases"][1]["authenticity"]["phantom"] = 7
    save(predictions, document)
    result = _run("--track", "2", "--predictions", str(predictions), "--truth", str(truth))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == "predictions invalid: 2 problems"
    assert lines[1].startswith("predictions: case c000: track.mask: '/etc/passwd' is absolute")
    assert lines[2].startswith("predictions: case c001: authenticity.phantom: must be in [0, 1]")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--track", "9"], "--track must be a number from 1 to 8, got '9'"),
        (["--track", "x"], "--track must be a number from 1 to 8, got 'x'"),
        (["--track", "2", "--predictions", "/nonexistent.json"], "--predictions: no such file"),
        (["--track", "2", "--rules", "/nonexistent.yaml"], "--rules: no such file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(track2, args, message):
    predictions, truth = track2
    defaults = {"--predictions": str(predictions), "--truth": str(truth)}
    given = dict(zip(args[::2], args[1::2], strict=True))
    merged = [item for pair in {**defaults, **given}.items() for item in pair]
    result = _run(*merged)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {result.output.strip()[7:]}"]
    assert message in result.output


def test_a_missing_option_is_one_line_too():
    result = _run("--track", "1")
    assert result.exit_code == 2
    assert result.output.strip() == "error: Missing option '--predictions'."


def test_a_bad_rules_file_is_a_usage_error(track2, tmp_path):
    predictions, truth = track2
    rules = tmp_path / "rules.yaml"
    rules.write_text(default_rules_path().read_text().replace("quality: 0.60", "quality: 0.70"))
    result = _run(
        "--track",
        "2",
        "--predictions",
        str(predictions),
        "--truth",
        str(truth),
        "--rules",
        str(rules),
    )
    assert result.exit_code == 2
    assert result.output.strip() == "error: rules: preliminary.weights: weights must add up to 1"
