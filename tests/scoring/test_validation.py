"""Every validation problem is produced by a crafted bad file, named by case and field."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import SimpleITK as sitk

from scoring import schema
from scoring.errors import PredictionsInvalid, TruthInvalid
from scoring.validation import load_predictions, load_truth
from tests.scoring.factory import RULES, load, make_set, save, write_image


def _problems(predictions, truth, track):
    truth_set = load_truth(truth, track, RULES)
    with pytest.raises(PredictionsInvalid) as caught:
        load_predictions(predictions, truth_set, track, RULES)
    return [(p.case, p.field, p.message) for p in caught.value.problems]


def _edit(path, change):
    document = load(path)
    change(document)
    save(path, document)


def _case(document, case_id):
    return next(c for c in document["cases"] if c["case_id"] == case_id)


@pytest.fixture
def track6(tmp_path):
    return make_set(6, tmp_path, cases=3)


@pytest.fixture
def track2(tmp_path):
    return make_set(2, tmp_path, cases=2)


def test_a_valid_set_loads(track6):
    predictions, truth = track6
    truth_set = load_truth(truth, 6, RULES)
    loaded = load_predictions(predictions, truth_set, 6, RULES)
    assert list(loaded.cases) == sorted(loaded.cases)


def test_missing_extra_and_duplicate_cases(track6):
    predictions, truth = track6

    def change(document):
        cases = document["cases"]
        cases.remove(_case(document, "c001"))
        cases.append({**_case(document, "c000"), "case_id": "zz-extra"})
        cases.append(dict(_case(document, "c002")))

    _edit(predictions, change)
    found = _problems(predictions, truth, 6)
    assert ("c001", "case_id", "missing: no prediction for this case") in found
    assert ("zz-extra", "case_id", "extra case: not in the test set") in found
    assert any(case == "c002" and "duplicate case id" in message for case, _, message in found)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "must be finite, got nan"),
        (float("inf"), "must be finite, got inf"),
        (1.5, "must be in [0, 1], got 1.5"),
        (-0.1, "must be in [0, 1], got -0.1"),
        ("0.5", "must be a number, got a string"),
        (True, "must be a number, got a boolean"),
    ],
)
def test_bad_probabilities(track6, value, message):
    predictions, truth = track6
    _edit(predictions, lambda d: _case(d, "c000")["track"]["breasts"].update(L=value))
    assert _problems(predictions, truth, 6) == [("c000", "track.breasts.L", message)]


def test_nan_written_as_a_json_literal_is_caught(track6):
    predictions, truth = track6
    text = predictions.read_text().replace('"stitched": 1.0', '"stitched": NaN', 1)
    predictions.write_text(text)
    assert ("c001", "conformity.stitched", "must be finite, got nan") in _problems(
        predictions, truth, 6
    )


def test_missing_and_unknown_fields_and_wrong_types(track6):
    predictions, truth = track6

    def change(document):
        del _case(document, "c000")["authenticity"]["phantom"]
        _case(document, "c001")["track"] = {"breast": {"L": 0.1, "R": 0.1}}
        _case(document, "c002")["conformity"] = "none"
        _case(document, "p900")["keypoints"] = [{"x": 1, "y": 2}]

    _edit(predictions, change)
    found = _problems(predictions, truth, 6)
    assert ("c000", "authenticity.phantom", "missing") in found
    assert ("c001", "track.breasts", "missing") in found
    assert ("c001", "track.breast", "unknown field") in found
    assert ("c002", "conformity", "must be an object, got a string") in found
    assert ("p900", "keypoints[0].label", "missing") in found


def test_duplicate_of_must_name_another_case(track6):
    predictions, truth = track6
    _edit(predictions, lambda d: _case(d, "c000")["conformity"].update(duplicate_of="nowhere"))
    _edit(predictions, lambda d: _case(d, "c001")["conformity"].update(duplicate_of="c001"))
    found = _problems(predictions, truth, 6)
    assert ("c001", "conformity.duplicate_of", "names the case itself") in found
    assert any(c == "c000" and "'nowhere'" in m for c, _, m in found)


def test_not_json_and_wrong_top_level(track6):
    predictions, truth = track6
    truth_set = load_truth(truth, 6, RULES)
    predictions.write_text("{not json")
    with pytest.raises(PredictionsInvalid, match="not valid JSON"):
        load_predictions(predictions, truth_set, 6, RULES)
    predictions.write_text(json.dumps([1, 2]))
    with pytest.raises(PredictionsInvalid, match='"cases"'):
        load_predictions(predictions, truth_set, 6, RULES)


def test_the_track_output_of_an_unscored_case_is_not_read(track2, monkeypatch):
    predictions, truth = track2
    anything = {"mask": "/etc/passwd", "malignancy": "high", "extra": [1]}
    _edit(predictions, lambda d: _case(d, "p900").update(track=anything))
    resolved = []
    resolve = schema.resolve_inside

    def recording(folder, value):
        resolved.append(value)
        return resolve(folder, value)

    monkeypatch.setattr(schema, "resolve_inside", recording)
    loaded = load_predictions(predictions, load_truth(truth, 2, RULES), 2, RULES)
    assert loaded.cases["p900"].track == anything  # kept as written, never checked
    assert loaded.cases["p900"].files == {}
    assert "/etc/passwd" not in resolved
    assert set(resolved) == {"c000/mask.nii.gz", "c001/mask.nii.gz"}  # truth, scored cases
    assert sorted(loaded.digest.files) == ["c000/mask.nii.gz", "c001/mask.nii.gz"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "is absolute"),
        ("../truth/c000/mask.nii.gz", "leaves the output folder"),
        ("c000/absent.nii.gz", "does not exist"),
    ],
)
def test_bad_file_paths(track2, path, message):
    predictions, truth = track2
    _edit(predictions, lambda d: _case(d, "c000")["track"].update(mask=path))
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and message in text


def test_a_symbolic_link_out_of_the_output_folder(track2):
    predictions, truth = track2
    link = predictions.parent / "c000" / "escape.nii.gz"
    os.symlink(truth.parent / "c000" / "mask.nii.gz", link)
    _edit(predictions, lambda d: _case(d, "c000")["track"].update(mask="c000/escape.nii.gz"))
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and "outside the output folder" in text


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"size": (16, 16, 8)}, "size"),
        ({"spacing": (1.0, 1.0, 1.0)}, "spacing"),
        ({"origin": (5.0, 0.0, 0.0)}, "origin"),
        ({"direction": (-1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0)}, "direction"),
    ],
)
def test_a_mask_on_another_grid(track2, change, what):
    predictions, truth = track2
    target = predictions.parent / "c001" / "mask.nii.gz"
    size = change.get("size", (16, 16, 16))
    image = sitk.GetImageFromArray(np.zeros(size[::-1], dtype=np.uint8))
    image.SetSpacing(change.get("spacing", (0.8, 0.8, 1.5)))
    image.SetOrigin(change.get("origin", (0.0, 0.0, 0.0)))
    image.SetDirection(change.get("direction", (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0)))
    sitk.WriteImage(image, str(target))
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c001", "track.mask")
    assert text.startswith(what) and "truth" in text


def test_a_float_map_where_a_label_mask_belongs(track2):
    predictions, truth = track2
    write_image(predictions.parent / "c000" / "mask.nii.gz", np.zeros((16, 16, 16), np.float32))
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and "integer pixels" in text


def test_a_file_that_is_not_an_image(track2):
    predictions, truth = track2
    (predictions.parent / "c000" / "mask.nii.gz").write_bytes(b"not an image")
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and "is not gzip-compressed" in text


def test_unknown_labels_are_refused_when_read(track2):
    from scoring.breakdown import score_track

    predictions, truth = track2
    write_image(predictions.parent / "c001" / "mask.nii.gz", np.full((16, 16, 16), 7, np.uint8))
    with pytest.raises(PredictionsInvalid) as caught:
        score_track(2, predictions, truth, RULES)
    (problem,) = caught.value.problems
    assert (problem.case, problem.field) == ("c001", "track.mask")
    assert "unknown labels [7]" in problem.message


def test_all_problems_come_at_once(track6):
    predictions, truth = track6
    _edit(predictions, lambda d: _case(d, "c000")["track"]["breasts"].update(L=2, R=None))
    _edit(predictions, lambda d: _case(d, "c002")["authenticity"].update(phantom=-1))
    assert len(_problems(predictions, truth, 6)) == 3


# The organiser's truth is checked the same way.


def test_truth_problems_are_reported(track6):
    _, truth = track6

    def change(document):
        _case(document, "c000")["track"] = None  # a real, unique case without truth
        _case(document, "p900")["track"] = {"breasts": {"L": True, "R": False}}
        _case(document, "c001")["authenticity"] = "robot"
        _case(document, "c002")["track"]["breasts"]["L"] = 1  # not a boolean

    _edit(truth, change)
    with pytest.raises(TruthInvalid) as caught:
        load_truth(truth, 6, RULES)
    found = {(p.case, p.field) for p in caught.value.problems}
    assert found == {
        ("c000", "track"),
        ("p900", "track"),
        ("c001", "authenticity"),
        ("c002", "track.breasts.L"),
    }


def test_truth_without_any_track_case(track6):
    _, truth = track6
    _edit(truth, lambda d: d.update(cases=[_case(d, "p900")]))
    with pytest.raises(TruthInvalid, match="no case carries track 6 truth"):
        load_truth(truth, 6, RULES)
