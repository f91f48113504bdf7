"""Issue 9, points 5 and 6: every file a model writes is hostile.

Image files cannot reach host files (no detached headers, no links, headers read by us before
SimpleITK sees a byte), and no JSON file or short image can knock a parser over: each becomes
the team's `PredictionsInvalid` with a reason, never an exception of the platform.
"""

from __future__ import annotations

import gzip
import json
import os
import struct

import numpy as np
import pytest
import SimpleITK as sitk

from scoring import images, validation
from scoring.breakdown import score_track
from scoring.errors import FileRefused, PredictionsInvalid, TruthInvalid
from tests.scoring.factory import RULES, load, make_set, save, write_image


def _problems(predictions, truth, track):
    with pytest.raises(PredictionsInvalid) as caught:
        score_track(track, predictions, truth, RULES)
    return [(p.case, p.field, p.message) for p in caught.value.problems]


def _point_at(predictions, case_id, field, relative):
    document = load(predictions)
    for case in document["cases"]:
        if case["case_id"] == case_id:
            case["track"][field] = relative
    save(predictions, document)


@pytest.fixture
def opened(monkeypatch):
    """Every file name SimpleITK is asked to open."""
    names: list[str] = []
    set_file_name = sitk.ImageFileReader.SetFileName
    read_image = sitk.ReadImage

    def recording_set(self, name, *args):
        names.append(str(name))
        return set_file_name(self, name, *args)

    def recording_read(name, *args, **kwargs):
        names.append(str(name))
        return read_image(name, *args, **kwargs)

    monkeypatch.setattr(sitk.ImageFileReader, "SetFileName", recording_set)
    monkeypatch.setattr(sitk, "ReadImage", recording_read)
    return names


# --- point 5: prediction images cannot reach host files -----------------------------------------


def test_a_metaimage_header_naming_a_host_file_is_refused_unread(tmp_path, opened):
    predictions, truth = make_set(5, tmp_path)
    key = tmp_path / "host-key.raw"  # what the red team pointed at: a file outside the run
    key.write_bytes(np.ones(16**3, np.float32).tobytes())
    header = (
        "ObjectType = Image\nNDims = 3\nDimSize = 16 16 16\nElementSpacing = 0.8 0.8 1.5\n"
        f"ElementType = MET_FLOAT\nElementDataFile = {key}\n"
    )
    (predictions.parent / "c000" / "map.mhd").write_text(header)
    (predictions.parent / "c002" / "map.mha").write_text(header)
    _point_at(predictions, "c000", "detection_map", "c000/map.mhd")
    _point_at(predictions, "c002", "detection_map", "c002/map.mha")
    found = _problems(predictions, truth, 5)
    assert [(case, field) for case, field, _ in found] == [
        ("c000", "track.detection_map"),
        ("c002", "track.detection_map"),
    ]
    assert "voxels lie in another file" in found[0][2]
    assert "ElementDataFile names another file" in found[1][2]
    assert not [name for name in opened if name.endswith((".mhd", ".mha", ".raw"))]


def test_a_file_posing_as_another_format_is_refused_before_simpleitk(tmp_path, opened):
    predictions, truth = make_set(2, tmp_path)
    disguised = predictions.parent / "c000" / "mask.nii.gz"
    disguised.write_text("ObjectType = Image\nElementDataFile = /etc/hostname\n")
    ((case, field, message),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and "not gzip-compressed" in message
    assert str(disguised) not in opened


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda real, path: path.symlink_to(real.name), "symbolic link"),
        (lambda real, path: os.link(real, path), "hard link (2 names for one file)"),
        (lambda real, path: os.mkfifo(path), "not a regular file"),
    ],
    ids=["symbolic link inside the folder", "hard link", "fifo"],
)
def test_links_and_special_files_are_refused(tmp_path, make, message):
    predictions, truth = make_set(2, tmp_path)
    path = predictions.parent / "c000" / "mask.nii.gz"
    real = path.rename(path.with_name("mask-real.nii.gz"))
    make(real, path)
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and message in text


def test_a_linked_folder_on_the_way_is_refused(tmp_path):
    predictions, truth = make_set(2, tmp_path)
    folder = predictions.parent
    (folder / "c000").rename(folder / "elsewhere")
    (folder / "c000").symlink_to("elsewhere")
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and "symbolic link ('c000')" in text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("c000\\mask.nii.gz", "not '\\'"),
        ("c000/mask.nii.gz\x00.png", "not a usable file name"),
        ("c000/" + "x" * 5000, "not a usable file name"),
        ("c000/mask.hdr", "accepted image files are"),
    ],
)
def test_odd_names_are_refused_with_a_reason(tmp_path, path, message):
    predictions, truth = make_set(2, tmp_path)
    (predictions.parent / "c000" / "mask.hdr").write_bytes(b"\x00" * 348)
    _point_at(predictions, "c000", "mask", path)
    ((case, field, text),) = _problems(predictions, truth, 2)
    assert (case, field) == ("c000", "track.mask") and message in text


def test_a_nifti_pair_is_refused(tmp_path):
    path = tmp_path / "pair.nii"
    write_image(path, np.zeros((4, 4, 4), np.uint8))
    data = bytearray(path.read_bytes())
    data[344:348] = b"ni1\x00"
    path.write_bytes(bytes(data))
    with pytest.raises(FileRefused, match="NIfTI pair"):
        images.read_header(path)


@pytest.mark.parametrize("name", ["mask.nii", "mask.nii.gz", "mask.mha", "packed.mha"])
def test_self_contained_formats_are_scored_alike(tmp_path, name):
    predictions, truth = make_set(2, tmp_path)
    expected = score_track(2, predictions, truth, RULES).breakdown["metrics"]
    for case_id in ("c000", "c001"):
        source = predictions.parent / case_id / "mask.nii.gz"
        image = sitk.ReadImage(str(source))
        source.unlink()
        sitk.WriteImage(image, str(predictions.parent / case_id / name), name == "packed.mha")
        _point_at(predictions, case_id, "mask", f"{case_id}/{name}")
    assert score_track(2, predictions, truth, RULES).breakdown["metrics"] == expected


def _nifti1(array: np.ndarray, order: str) -> bytes:
    """A minimal single-file NIfTI-1 image in the given byte order ('<' or '>')."""
    codes = {"u1": 2, "i2": 4, "f4": 16}
    header = bytearray(352)
    struct.pack_into(order + "i", header, 0, 348)
    dims = array.shape[::-1]
    struct.pack_into(order + "8h", header, 40, len(dims), *dims, *[1] * (7 - len(dims)))
    kind = array.dtype.str[1:]
    struct.pack_into(order + "2h", header, 70, codes[kind], array.dtype.itemsize * 8)
    struct.pack_into(order + "8f", header, 76, 1, 0.5, 0.75, 2.0, 1, 1, 1, 1)
    struct.pack_into(order + "3f", header, 108, 352, 1, 0)
    header[344:348] = b"n+1\x00"
    return bytes(header) + array.astype(order + kind).tobytes()


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("kind", ["u1", "i2", "f4"])
@pytest.mark.parametrize("compressed", [False, True], ids=["nii", "nii.gz"])
def test_our_voxels_are_simpleitks_voxels(tmp_path, order, kind, compressed):
    array = (np.random.default_rng(1).random((5, 6, 7)) * 100).astype(kind)
    data = _nifti1(array, order)
    path = tmp_path / ("x.nii.gz" if compressed else "x.nii")
    path.write_bytes(gzip.compress(data) if compressed else data)
    ours = images.read_array(path)
    theirs = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    assert ours.dtype.str[1:] == kind and np.array_equal(ours, theirs)
    information = images.read_information(path)
    assert information.size == (7, 6, 5) and information.spacing == (0.5, 0.75, 2.0)


# --- point 6: parsers that cannot be knocked over ------------------------------------------------


def test_json_nested_200000_deep_is_the_teams_invalid_output(tmp_path):
    predictions, truth = make_set(6, tmp_path)
    predictions.write_text('{"cases": ' + "[" * 200_000 + "]" * 200_000 + "}")
    found = _problems(predictions, truth, 6)
    assert found == [(None, "(file)", "JSON nested 200,001 levels deep; the limit is 64")]


def test_the_truth_is_read_by_the_same_bounded_reader(tmp_path):
    predictions, truth = make_set(6, tmp_path)
    truth.write_text('{"cases": ' + "[" * 100 + "]" * 100 + "}")
    with pytest.raises(TruthInvalid, match="nested 101 levels deep"):
        score_track(6, predictions, truth, RULES)


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    predictions, truth = make_set(6, tmp_path)
    with predictions.open("r+b") as stream:  # sparse: 64 MiB + 1 without writing it
        stream.truncate(validation.MAX_JSON_BYTES + 1)
    parsed, parse = [], validation.parse_json
    monkeypatch.setattr(validation, "parse_json", lambda data: parsed.append(data) or parse(data))
    ((case, field, message),) = _problems(predictions, truth, 6)
    assert field == "(file)" and "67,108,865 bytes; the limit is 67,108,864" in message
    assert len(parsed) == 1  # the truth only


def test_too_many_objects_are_refused_before_parsing(tmp_path, monkeypatch):
    predictions, truth = make_set(6, tmp_path)
    document = load(predictions)
    document["cases"][0]["keypoints"] = [{"x": 1, "y": 2, "label": "a"}] * 100
    save(predictions, document)
    monkeypatch.setattr(validation, "MAX_JSON_CONTAINERS", 100)
    ((_, field, message),) = _problems(predictions, truth, 6)
    assert field == "(file)" and "JSON objects and lists; the limit is 100" in message


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ('{"a": "[[[[\\"[[[[", "b": [[1]]}', (3, 3)),
        ('["\\\\", [["]]]]"]]]', (3, 3)),
        ("[" * 70 + "]" * 70, (70, 70)),
        ('{"a": "' + "[" * 100 + '"}', (1, 1)),
    ],
)
def test_brackets_inside_strings_do_not_count(text, shape):
    assert validation.json_shape(text.encode(), chunk=7) == shape
    if shape[0] <= 64:
        json.loads(text)


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("1" + "0" * 5000, "not valid JSON"),  # Python refuses 4,300+ digit integers
        ("1" + "0" * 400, "must be finite, got a number too large for a float"),
    ],
)
def test_numbers_too_large_are_problems_not_crashes(tmp_path, literal, message):
    predictions, truth = make_set(6, tmp_path)
    text = predictions.read_text().replace('"stitched": 1.0', f'"stitched": {literal}', 1)
    predictions.write_text(text)
    assert any(message in text for _, _, text in _problems(predictions, truth, 6))


def test_a_symbolic_link_as_predictions_json_is_refused(tmp_path):
    predictions, truth = make_set(6, tmp_path)
    predictions.rename(predictions.with_name("real.json"))
    predictions.symlink_to("real.json")
    ((_, field, message),) = _problems(predictions, truth, 6)
    assert field == "(file)" and "symbolic link" in message


def test_a_nifti_shorter_than_its_header_is_refused_when_checked(tmp_path):
    predictions, truth = make_set(2, tmp_path)
    image = sitk.ReadImage(str(predictions.parent / "c001" / "mask.nii.gz"))
    target = predictions.parent / "c001" / "mask.nii"
    sitk.WriteImage(image, str(target))
    target.write_bytes(target.read_bytes()[:-100])  # SimpleITK would pad it with zeros
    _point_at(predictions, "c001", "mask", "c001/mask.nii")
    ((case, _, message),) = _problems(predictions, truth, 2)
    assert case == "c001" and "too short: its header promises 4,096 bytes" in message


@pytest.mark.parametrize("track", [2, 5])
def test_a_truncated_gzip_image_is_the_teams_invalid_output(tmp_path, track):
    predictions, truth = make_set(track, tmp_path)
    name = "mask.nii.gz" if track == 2 else "detection.nii.gz"
    path = predictions.parent / "c000" / name
    rng = np.random.default_rng(0)  # incompressible voxels: the cut falls inside them
    array = (rng.random((16, 16, 16)) > 0.5).astype(np.uint8)
    if track == 5:
        array = np.zeros((16, 16, 16), np.float32)
        array[2:5, 2:5, 2:5] = 0.5
    write_image(path, array)
    path.write_bytes(path.read_bytes()[: -len(path.read_bytes()) // 3])
    ((case, field, message),) = _problems(predictions, truth, track)
    assert case == "c000" and field.startswith("track.")
    assert "too short" in message or "corrupt" in message


def test_simpleitks_voxels_are_taken_only_when_the_gzip_trailer_vouches(tmp_path, monkeypatch):
    path = tmp_path / "m.nii.gz"
    voxels = np.random.default_rng(2).integers(0, 255, (16, 16, 16), dtype=np.uint8)
    write_image(path, voxels)
    inflated = []
    inflate = images._inflate_into
    monkeypatch.setattr(images, "_inflate_into", lambda *a: inflated.append(1) or inflate(*a))
    assert np.array_equal(images.read_array(path), voxels) and not inflated
    data = bytearray(path.read_bytes())
    data[-8:-4] = bytes(4)  # a CRC that does not fit SimpleITK's voxels
    path.write_bytes(bytes(data))
    with pytest.raises(FileRefused, match="corrupt"):
        images.read_array(path)
    assert inflated  # SimpleITK's voxels were not taken: the file was read again, by us
