"""The phantom generator: layout, truth keys, geometry, gate cases, determinism and the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import SimpleITK as sitk
from click.testing import CliRunner

from scoring.rules import load_rules
from scoring.synth import SPECS, SynthError, make_dataset
from scoring.synth.cli import data
from scoring.validation import load_truth

RULES = load_rules()
TRACK_KEYS = {
    1: {"nodules", "excluded"},
    2: {"mask", "malignant"},
    3: {"aneurysms"},
    4: {"mask", "grade_high"},
    5: {"mask"},
    6: {"breasts"},
    7: {"label"},
    8: {"findings"},
}


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _truth(out: Path) -> list[dict]:
    return json.loads((out / "truth" / "truth.json").read_text())["cases"]


@pytest.mark.parametrize("track", [1, 6])
def test_same_seed_gives_the_same_bytes_and_another_seed_other_data(tmp_path, track):
    first = _digest(make_dataset(track, 6, tmp_path / "a", seed=3))
    again = _digest(make_dataset(track, 6, tmp_path / "b", seed=3))
    other = _digest(make_dataset(track, 6, tmp_path / "c", seed=4))
    assert first == again
    assert first.keys() == other.keys()
    images = [name for name in first if name.startswith("input/c0")]
    assert all(first[name] != other[name] for name in images)


@pytest.mark.parametrize("track", sorted(SPECS))
def test_every_track_writes_the_layout_and_truth_that_the_scorer_accepts(tmp_path, track):
    out = make_dataset(track, 12, tmp_path / "set", seed=1)
    listing = json.loads((out / "input" / "cases.json").read_text())
    assert [c["case_id"] for c in listing] == [f"c{i:04d}" for i in range(1, 13)]
    for case in listing:
        assert tuple(case["files"]) == RULES.track(track).roles
        assert all((out / "input" / path).is_file() for path in case["files"].values())
    load_truth(out / "truth" / "truth.json", track, RULES)  # raises, naming the field, if wrong
    for case in _truth(out):
        assert set(case) == {"case_id", "authenticity", "conformity", "track"}
        assert set(case["conformity"]) == {"duplicate_of", "stitched"}
        if case["track"] is not None:
            assert set(case["track"]) == TRACK_KEYS[track]


@pytest.mark.parametrize("track", [2, 4, 5])
def test_masks_share_the_geometry_of_the_images(tmp_path, track):
    out = make_dataset(track, 4, tmp_path / "set", seed=2, size=(40, 36, 20))
    for case in [c for c in _truth(out) if c["track"] is not None]:
        mask = sitk.ReadImage(str(out / "truth" / case["track"]["mask"]))
        image = sitk.ReadImage(
            str(out / "input" / case["case_id"] / f"{RULES.track(track).roles[0]}.nii.gz")
        )
        assert mask.GetSize() == image.GetSize() == (40, 36, 20)
        assert mask.GetSpacing() == image.GetSpacing()
        assert mask.GetOrigin() == image.GetOrigin()
        assert mask.GetDirection() == image.GetDirection()
        assert sitk.GetArrayFromImage(mask).max() >= 1


def test_volumes_are_anisotropic_with_an_origin_away_from_zero(tmp_path):
    out = make_dataset(4, 1, tmp_path / "set", seed=0)
    image = sitk.ReadImage(str(out / "input" / "c0001" / "t1.nii.gz"))
    assert image.GetSpacing()[0] != image.GetSpacing()[2]
    assert all(abs(o) > 1 for o in image.GetOrigin())
    assert image.GetDirection() != (1, 0, 0, 0, 1, 0, 0, 0, 1)


def test_nodule_truth_in_world_mm_points_at_the_nodule(tmp_path):
    out = make_dataset(1, 24, tmp_path / "set", seed=5)
    nodules = 0
    for case in _truth(out):
        if case["track"] is None:
            continue
        image = sitk.ReadImage(str(out / "input" / case["case_id"] / "ct_plain.nii.gz"))
        for nodule in case["track"]["nodules"]:
            index = image.TransformPhysicalPointToIndex((nodule["x"], nodule["y"], nodule["z"]))
            assert image[index] > -600, "a nodule centre lies in aerated lung, not in the nodule"
            nodules += 1
    assert nodules >= 5


@pytest.mark.parametrize("track", [2, 8])
def test_a_default_dataset_holds_every_gate_case(tmp_path, track):
    out = make_dataset(track, 24, tmp_path / "set", seed=9)
    cases = _truth(out)
    by_id = {case["case_id"]: case for case in cases}
    assert {c["authenticity"] for c in cases} == {"real_human", "phantom", "non_human"}
    assert sum(c["conformity"]["stitched"] for c in cases) >= 2
    duplicates = [c for c in cases if c["conformity"]["duplicate_of"]]
    assert len(duplicates) >= 4
    roles = RULES.track(track).roles
    exact = 0
    for case in duplicates:
        source = by_id[case["conformity"]["duplicate_of"]]
        assert source["case_id"] < case["case_id"] and source["track"] is not None
        assert case["track"] is None
        same = [
            (out / "input" / case["case_id"] / f"{role}{SPECS[track].extension}").read_bytes()
            == (out / "input" / source["case_id"] / f"{role}{SPECS[track].extension}").read_bytes()
            for role in roles
        ]
        exact += all(same)
    assert 0 < exact < len(duplicates)  # exact copies and noisy near-copies both occur
    assert all(c["track"] is None for c in cases if c["authenticity"] != "real_human")


def test_size_scales_the_images(tmp_path):
    out = make_dataset(8, 1, tmp_path / "set", seed=0, size=(96, 80))
    assert sitk.ReadImage(str(out / "input" / "c0001" / "cxr.png")).GetSize() == (96, 80)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--track", "9"], "--track"),
        (["--track", "2", "--cases", "0"], "--cases"),
        (["--track", "2", "--size", "64x64"], "--size"),
        (["--track", "7", "--size", "big"], "--size"),
    ],
)
def test_bad_cli_arguments_fail_clearly_and_write_nothing(tmp_path, arguments, named):
    out = tmp_path / "set"
    result = CliRunner().invoke(data, ["synth", *arguments, "--out", str(out)])
    assert result.exit_code == 2
    assert named in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_non_empty_output_folder_and_fills_an_empty_one(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    result = CliRunner().invoke(data, ["synth", "--track", "3", "--out", str(full)])
    assert result.exit_code == 2 and "not empty" in result.output and "--out" in result.output
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        data, ["synth", "--track", "3", "--cases", "2", "--out", str(empty)]
    )
    assert result.exit_code == 0, result.output
    assert len(_truth(empty)) == 2


def test_make_dataset_names_the_bad_argument():
    with pytest.raises(SynthError, match="track 0 does not exist") as error:
        make_dataset(0, 3, Path("/nonexistent/never"), seed=0)
    assert error.value.argument == "track"
