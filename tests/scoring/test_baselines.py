"""The baseline bundles: self-contained, small, and runnable under the model I/O contract."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scoring.baselines import HERE, bundle_path
from scoring.breakdown import score_track
from scoring.rules import load_rules
from scoring.synth import make_dataset
from scoring.validation import load_predictions, load_truth

RULES = load_rules()
ALLOWED_IMPORTS = {
    "__future__",
    "json",
    "os",
    "time",
    "pathlib",
    "typing",
    "numpy",
    "torch",
    "monai",
    "SimpleITK",
}
TRACKS = range(1, 9)


@pytest.mark.parametrize("track", TRACKS)
def test_each_bundle_is_the_shared_predict_py_and_small_weights_of_its_track(track):
    import torch

    bundle = bundle_path(track)
    assert (bundle / "predict.py").read_bytes() == (HERE / "predict.py").read_bytes()
    assert sorted(p.name for p in bundle.iterdir()) == ["predict.py", "weights.pt"]
    weights = bundle / "weights.pt"
    assert weights.stat().st_size < 1_000_000
    assert torch.load(weights, map_location="cpu", weights_only=True)["track"] == track


def test_predict_py_imports_only_what_the_sandbox_has():
    tree = ast.parse((HERE / "predict.py").read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add(node.module.split(".")[0])
    assert roots <= ALLOWED_IMPORTS


def test_bundle_path_refuses_an_unknown_track():
    with pytest.raises(ValueError, match="track 9"):
        bundle_path(9)


def _run(track: int, data: Path, output: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HUIYAN_INPUT": str(data / "input"), "HUIYAN_OUTPUT": str(output)}
    return subprocess.run(
        [sys.executable, "predict.py"],
        cwd=bundle_path(track),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("track", TRACKS)
def test_baseline_runs_and_writes_valid_predictions_for_every_case(tmp_path, track):
    data = make_dataset(track, 12, tmp_path / "data", seed=31)
    output = tmp_path / "output"
    run = _run(track, data, output)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = load_truth(data / "truth" / "truth.json", track, RULES)
    predictions = load_predictions(output / "predictions.json", truth, track, RULES)
    assert sorted(predictions.cases) == sorted(truth.cases)
    timings = json.loads((output / "timings.json").read_text())
    assert timings["model_load_s"] >= 0 and sorted(timings["cases"]) == sorted(truth.cases)
    primary = score_track(track, output / "predictions.json", data / "truth" / "truth.json", RULES)
    value = primary.breakdown["primary"]["value"]
    assert value is not None and value > 0.0, f"track {track} baseline scores {value}"
