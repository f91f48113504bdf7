"""Dice, surface Dice and HD95 through MONAI, on cubes worked by hand, and the empty rules."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.segmentation import RegionScorer, crop_to_union, region_channels

REGIONS = {"all": (1,)}


def _cube(z0: int, size: int = 4, grid: int = 10) -> np.ndarray:
    array = np.zeros((grid, grid, grid), dtype=np.uint8)
    array[z0 : z0 + size, 2 : 2 + size, 2 : 2 + size] = 1
    return array


def _channels(array: np.ndarray):
    return region_channels(array, REGIONS)


def test_dice_of_a_cube_shifted_by_one_slice():
    # 4x4x4 cubes overlapping in 3 of 4 slices: 2 * 48 / (64 + 64) = 0.75
    scorer = RegionScorer()
    assert scorer.dice(_channels(_cube(2)), _channels(_cube(3))) == pytest.approx([0.75])


def test_hd95_of_a_cube_shifted_by_one_slice_is_one_voxel_in_mm():
    scorer = RegionScorer(hd_penalty_mm=374)
    assert scorer.hd95(_channels(_cube(2)), _channels(_cube(3)), (2.0, 2.0, 2.0)) == (
        pytest.approx([2.0])
    )


def test_surface_dice_depends_on_the_tolerance_in_mm():
    tight = RegionScorer(tolerances_mm=[0.5])
    loose = RegionScorer(tolerances_mm=[2.5])
    spacing = (2.0, 2.0, 2.0)
    predicted, truth = _channels(_cube(2)), _channels(_cube(3))
    assert loose.surface_dice(predicted, truth, spacing) == pytest.approx([1.0])
    assert 0.0 < tight.surface_dice(predicted, truth, spacing)[0] < 1.0
    assert tight.surface_dice(truth, truth, spacing) == pytest.approx([1.0])


def test_empty_regions_score_as_kits_and_brats():
    empty = _channels(np.zeros((10, 10, 10), dtype=np.uint8))
    full = _channels(_cube(2))
    scorer = RegionScorer(tolerances_mm=[1.0], hd_penalty_mm=374)
    spacing = (1.0, 1.0, 1.0)
    assert scorer.dice(empty, empty) == [1.0]
    assert scorer.dice(full, empty) == [0.0]
    assert scorer.surface_dice(empty, empty, spacing) == [1.0]
    assert scorer.surface_dice(empty, full, spacing) == [0.0]
    assert scorer.hd95(empty, empty, spacing) == [0.0]
    assert scorer.hd95(full, empty, spacing) == [374.0]
    assert scorer.hd95(empty, full, spacing) == [374.0]


def test_nested_regions_are_unions_of_labels():
    array = np.array([[[0, 1, 2, 3]]], dtype=np.uint8)
    channels = region_channels(array, {"wt": (1, 2, 3), "tc": (1, 3), "et": (3,)})
    assert channels.shape == (1, 3, 1, 1, 4)
    assert channels[0, :, 0, 0].tolist() == [
        [False, True, True, True],
        [False, True, False, True],
        [False, False, False, True],
    ]


def test_cropping_to_the_foreground_changes_no_metric():
    rng = np.random.default_rng(0)
    predicted = np.zeros((24, 24, 24), dtype=np.uint8)
    truth = np.zeros_like(predicted)
    predicted[5:12, 6:14, 7:15] = 1
    truth[6:13, 6:13, 8:16] = 1
    truth[rng.integers(6, 13, 20), rng.integers(6, 13, 20), rng.integers(8, 16, 20)] = 0
    cropped = crop_to_union(predicted, truth)
    assert cropped[0].shape == (12, 12, 13)
    scorer = RegionScorer(tolerances_mm=[1.0], hd_penalty_mm=374)
    spacing = (1.5, 0.7, 0.7)
    whole = [_channels(predicted), _channels(truth)]
    cut = [_channels(cropped[0]), _channels(cropped[1])]
    assert scorer.dice(*whole) == scorer.dice(*cut)
    assert scorer.surface_dice(*whole, spacing) == pytest.approx(scorer.surface_dice(*cut, spacing))
    assert scorer.hd95(*whole, spacing) == pytest.approx(scorer.hd95(*cut, spacing))


def test_no_monai_metric_keeps_a_buffer_that_grows_with_the_cases(tmp_path, monkeypatch):
    """Issue 9, point 10: MONAI's metric objects buffer every result until reset; scoring a set
    must leave nothing behind however many cases it holds."""
    from monai.metrics.metric import Cumulative

    from scoring.breakdown import score_track
    from tests.scoring.factory import RULES, make_set

    buffered = []
    for name in ("append", "extend"):
        original = getattr(Cumulative, name)

        def recording(self, *data, _original=original):
            buffered.append(len(data))
            return _original(self, *data)

        monkeypatch.setattr(Cumulative, name, recording)
    for track in (2, 4):
        predictions, truth = make_set(track, tmp_path / str(track), cases=6)
        score_track(track, predictions, truth, RULES)
    assert buffered == []
    scorer = RegionScorer(tolerances_mm=[1.0], hd_penalty_mm=374)
    assert not [v for v in vars(scorer).values() if isinstance(v, Cumulative)]


def test_labels_are_checked_without_a_copy_of_the_volume(tmp_path, monkeypatch):
    """Point 12: no int64 copy to count labels; gaps in the allowed labels still caught."""
    from scoring.segmentation import read_labels
    from tests.scoring.factory import write_image

    path = tmp_path / "m.nii.gz"
    array = np.zeros((8, 8, 8), np.uint8)
    array[0, 0, :4] = [1, 2, 3, 4]
    write_image(path, array)
    monkeypatch.setattr(np, "bincount", lambda *a, **k: pytest.fail("bincount"))
    problems = []
    assert read_labels(path, {0, 1, 2, 3, 4}, "c", "track.mask", problems) is not None
    assert read_labels(path, {0, 1, 2, 4}, "c", "track.mask", problems) is None
    assert read_labels(path, {0, 1, 2}, "c", "track.mask", problems) is None
    assert [p.message for p in problems] == [
        "unknown labels [3]; allowed [0, 1, 2, 4]",
        "unknown labels [4]; allowed [0, 1, 2]",
    ]
