"""Turn predictions.json and truth.json (and the files they name) into checked inputs.

A file with any problem is never partly scored (SCORING.md §1): every problem found is
collected, each naming its case and field, and one exception carries the whole list, so a team
fixes everything after one failed run. The organiser's truth file is checked the same way,
because a wrong truth file would silently mis-score every team.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scoring.errors import (
    FileRefused,
    InputsInvalid,
    PredictionsInvalid,
    Problem,
    Problems,
    TruthInvalid,
    quote,
)
from scoring.images import Information, open_no_follow, read_information, regular_file
from scoring.rules import REAL_HUMAN, Rules
from scoring.schema import (
    PROBABILITY,
    Anything,
    Boolean,
    Keys,
    ListOf,
    Node,
    Nullable,
    Number,
    OneOf,
    Record,
    Report,
    Text,
)
from scoring.tracks import track_module

# A JSON file is refused before parsing when it is larger, nests deeper or holds more objects
# and lists than this: Python's parser recurses (RecursionError at ~1,000 levels) and a 64 MiB
# file of "[]," would be 20 million lists. Real predictions nest 5 levels and hold one object
# per candidate (a few hundred thousand at most).
MAX_JSON_BYTES = 64 << 20
MAX_JSON_DEPTH = 64
MAX_JSON_CONTAINERS = 4_000_000
_ESCAPE = re.compile(rb"\\[\s\S]")
# Geometry written by a model from the image's own header survives a float32 round trip with
# far smaller errors than these; anything larger is a different grid.
_MM_TOLERANCE = 1e-4
_DIRECTION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Digest:
    """SHA-256 of the JSON file and of every file it refers to (path relative to its folder)."""

    sha256: str
    files: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "files": dict(sorted(self.files.items()))}


@dataclass(frozen=True)
class CaseEntry:
    """One case of either file; ``files`` maps a field inside ``track`` to its resolved path."""

    case_id: str
    authenticity: Any  # truth: the class name; prediction: {class: probability}
    duplicate_of: str | None
    stitched: Any  # truth: bool; prediction: probability
    track: Any
    files: Mapping[str, Path]


@dataclass(frozen=True)
class CaseSet:
    cases: Mapping[str, CaseEntry]  # sorted by case id, so results never depend on file order
    digest: Digest


@dataclass(frozen=True)
class CasePair:
    """What a track scorer sees of one case that has track truth."""

    case_id: str
    predicted: Any
    truth: Any
    predicted_files: Mapping[str, Path]
    truth_files: Mapping[str, Path]


def scored_pairs(predictions: CaseSet, truth: CaseSet) -> list[CasePair]:
    return [
        CasePair(
            case_id,
            predictions.cases[case_id].track,
            entry.track,
            predictions.cases[case_id].files,
            entry.files,
        )
        for case_id, entry in truth.cases.items()
        if entry.track is not None
    ]


def load_truth(path: Path, track: int, rules: Rules) -> CaseSet:
    """Check the organiser's truth file for ``track``; raise `TruthInvalid` listing problems."""
    classes = rules.authenticity.classes
    module = track_module(track)
    track_schema = module.truth_schema(rules.track(track))
    case_schema = Record(
        {
            "case_id": Text(),
            "authenticity": OneOf(classes),
            "conformity": Record({"duplicate_of": Nullable(Text()), "stitched": Boolean()}),
            "track": Nullable(track_schema),
        }
    )
    raw, problems, sha = _read_cases(path, TruthInvalid)
    entries: dict[str, CaseEntry] = {}
    for case in _unique_cases(raw, problems):
        report = Report(path.parent, case_id_of(case))
        case_schema.check(case, "", report)
        if not report.problems:
            must_have_track = (
                case["authenticity"] == REAL_HUMAN and case["conformity"]["duplicate_of"] is None
            )
            if must_have_track and case["track"] is None:
                report.add("track", "a real human case that duplicates nothing needs track truth")
            if not must_have_track and case["track"] is not None:
                report.add("track", "must be null: the case is not real human, or a duplicate")
        _check_files(report, {})
        problems.extend(report.problems)
        if not report.problems:
            entries[case["case_id"]] = _entry(case, report)
    _check_duplicate_refs(entries, {case_id_of(c) for c in raw} - {None}, problems)
    if not any(e.track is not None for e in entries.values()) and not problems:
        problems.append(Problem(None, "cases", f"no case carries track {track} truth"))
    if problems:
        raise TruthInvalid(problems)
    return _case_set(entries, path.parent, sha)


def load_predictions(path: Path, truth: CaseSet, track: int, rules: Rules) -> CaseSet:
    """Check a model's predictions against the truth's case list; raise `PredictionsInvalid`."""
    module = track_module(track)
    track_schema = module.prediction_schema(rules.track(track))
    classes = rules.authenticity.classes

    def case_schema(scored: bool) -> Node:
        return Record(
            {
                "case_id": Text(),
                "authenticity": Keys(classes, PROBABILITY),
                "conformity": Record({"duplicate_of": Nullable(Text()), "stitched": PROBABILITY}),
                # A case without track truth is scored by the gates only; its track output,
                # whatever it is, is never read (SCORING.md §1).
                "track": track_schema if scored else Anything(),
            },
            optional={
                "keypoints": ListOf(
                    Record(
                        {"x": Number(), "y": Number(), "label": Text()},
                        optional={"z": Number()},
                    )
                ),
                "explanation": Text(),
            },
        )

    raw, problems, sha = _read_cases(path, PredictionsInvalid)
    entries: dict[str, CaseEntry] = {}
    seen: set[str] = set()
    truth_headers: dict[Path, Information | None] = {}
    for case in _unique_cases(raw, problems):
        case_id = case["case_id"]
        seen.add(case_id)
        truth_entry = truth.cases.get(case_id)
        report = Report(path.parent, case_id)
        if truth_entry is None:
            report.add("case_id", "extra case: not in the test set")
        scored = truth_entry is not None and truth_entry.track is not None
        case_schema(scored).check(case, "", report)
        if scored and not report.problems:
            _check_files(report, _reference_grids(module.SAME_GRID, truth_entry), truth_headers)
        problems.extend(report.problems)
        if not report.problems:
            entries[case_id] = _entry(case, report if scored else Report(path.parent))
    for case_id in truth.cases:
        if case_id not in seen:
            problems.append(Problem(case_id, "case_id", "missing: no prediction for this case"))
    _check_duplicate_refs(entries, seen, problems)
    if problems:
        raise PredictionsInvalid(problems)
    return _case_set(entries, path.parent, sha)


def case_id_of(case: Any) -> str | None:
    if isinstance(case, dict) and isinstance(case.get("case_id"), str) and case["case_id"]:
        return case["case_id"]
    return None


def _read_cases(path: Path, error: type[InputsInvalid]) -> tuple[list[Any], Problems, str]:
    try:
        data = read_json_bytes(path)
        document = parse_json(data)
    except FileRefused as refused:
        raise error([Problem(None, "(file)", str(refused))]) from None
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise error([Problem(None, "cases", 'the file must be {"cases": [...]}')])
    problems = Problems(
        Problem(None, quote(key)[1:-1], "unknown field") for key in document if key != "cases"
    )
    return document["cases"], problems, hashlib.sha256(data).hexdigest()


def read_json_bytes(path: Path, limit: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of a JSON file that is a regular file of at most ``limit`` bytes (no link)."""
    regular_file(path, limit)
    try:
        with open_no_follow(path) as stream:
            data = stream.read(limit + 1)
    except OSError as problem:
        raise FileRefused(f"cannot read {path.name}: {problem.strerror}") from None
    if len(data) > limit:
        raise FileRefused(f"{path.name!r} is larger than the limit of {limit:,} bytes")
    return data


def parse_json(data: bytes) -> Any:
    """``json.loads`` after a scan that bounds nesting and the number of objects and lists, so
    that no file can make the parser recurse too deep or fill the memory."""
    openings = data.count(b"[") + data.count(b"{")  # bounds both figures: often no scan at all
    depth, containers = (
        json_shape(data) if openings > min(MAX_JSON_DEPTH, MAX_JSON_CONTAINERS) else (0, 0)
    )
    if depth > MAX_JSON_DEPTH:
        raise FileRefused(f"JSON nested {depth:,} levels deep; the limit is {MAX_JSON_DEPTH}")
    if containers > MAX_JSON_CONTAINERS:
        raise FileRefused(
            f"{containers:,} JSON objects and lists; the limit is {MAX_JSON_CONTAINERS:,}"
        )
    try:
        return json.loads(data)
    except ValueError as problem:  # JSONDecodeError, UnicodeDecodeError, a 5,000-digit number
        raise FileRefused(f"not valid JSON: {str(problem)[:200]}") from None


def json_shape(data: bytes, chunk: int = 1 << 22) -> tuple[int, int]:
    """(deepest nesting, number of objects and lists) of JSON text, without parsing it: the
    brackets outside strings, counted with numpy a few MiB at a time (no recursion at all).
    Escapes are blanked first, so an escaped quote cannot end a string. On text that is not
    JSON the figures mean little; the parser refuses such text anyway."""
    text = np.frombuffer(_ESCAPE.sub(b"__", data), dtype=np.uint8)
    depth = deepest = containers = 0
    in_string = False
    for start in range(0, len(text), chunk):
        block = text[start : start + chunk]
        quotes = np.cumsum(block == ord('"'), dtype=np.int64)
        outside = (quotes & 1) == (1 if in_string else 0)
        opens = ((block == ord("[")) | (block == ord("{"))) & outside
        closes = ((block == ord("]")) | (block == ord("}"))) & outside
        levels = depth + np.cumsum(opens.astype(np.int64) - closes)
        if len(levels):
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        containers += int(opens.sum())
        in_string = bool((quotes[-1] & 1) ^ in_string) if len(quotes) else in_string
    return deepest, containers


def _unique_cases(raw: list[Any], problems: Problems):
    """Yield the cases whose id is usable and not seen before."""
    seen: set[str] = set()
    for index, case in enumerate(raw):
        case_id = case_id_of(case)
        if case_id is None:
            problems.append(
                Problem(None, f"cases[{index}].case_id", "missing or not a non-empty string")
            )
            continue
        if case_id in seen:
            problems.append(Problem(case_id, "case_id", f"duplicate case id (cases[{index}])"))
            continue
        seen.add(case_id)
        yield case


def _entry(case: dict[str, Any], report: Report) -> CaseEntry:
    prefix = "track."
    return CaseEntry(
        case_id=case["case_id"],
        authenticity=case["authenticity"],
        duplicate_of=case["conformity"]["duplicate_of"],
        stitched=case["conformity"]["stitched"],
        track=case["track"],
        files={k.removeprefix(prefix): v for k, v in report.files.items()},
    )


def _case_set(entries: dict[str, CaseEntry], folder: Path, sha: str) -> CaseSet:
    ordered = dict(sorted(entries.items()))
    files: dict[str, str] = {}
    root = folder.resolve()
    for entry in ordered.values():
        for target in entry.files.values():
            files[target.relative_to(root).as_posix()] = _file_sha256(target)
    return CaseSet(ordered, Digest(sha, files))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_duplicate_refs(
    entries: Mapping[str, CaseEntry], known: set[str], problems: Problems
) -> None:
    """``known``: every case id in the file, so one bad case does not spill onto its copies."""
    for case_id, entry in entries.items():
        if entry.duplicate_of is None:
            continue
        if entry.duplicate_of == case_id:
            problems.append(Problem(case_id, "conformity.duplicate_of", "names the case itself"))
        elif entry.duplicate_of not in known:
            problems.append(
                Problem(
                    case_id,
                    "conformity.duplicate_of",
                    f"names {quote(entry.duplicate_of)}, which is not a case of this file",
                )
            )


def _reference_grids(same_grid: Mapping[str, str], truth: CaseEntry) -> dict[str, Path]:
    """Field path of a predicted file -> the truth file whose grid it must share."""
    return {
        f"track.{predicted}": truth.files[truth_field]
        for predicted, truth_field in same_grid.items()
        if truth_field in truth.files
    }


def _check_files(
    report: Report,
    reference: Mapping[str, Path],
    seen: dict[Path, Information | None] | None = None,
) -> None:
    """Each file's header, read by our own reader and then SimpleITK's (no voxels yet), and
    its grid against the truth file it must match (``seen`` keeps the truth's headers)."""
    for field_path, target in report.files.items():
        try:
            information = read_information(target)
        except FileRefused as refused:
            report.add(field_path, str(refused))
            continue
        if field_path in report.label_files and not information.integer:
            report.add(field_path, f"a label mask needs integer pixels, got {information.pixel}")
        if field_path in reference:
            expected = _truth_information(reference[field_path], {} if seen is None else seen)
            if expected is not None:
                difference = _differs(information, expected)
                if difference:
                    report.add(field_path, f"{difference} differs from the truth's image grid")


def _truth_information(path: Path, seen: dict[Path, Information | None]) -> Information | None:
    """The truth was checked when it was loaded; None only if it changed since."""
    if path not in seen:
        try:
            seen[path] = read_information(path)
        except FileRefused:
            seen[path] = None
    return seen[path]


def _differs(mine: Information, theirs: Information) -> str | None:
    if mine.size != theirs.size:
        return f"size {mine.size} vs {theirs.size}:"
    for name, tolerance in (
        ("spacing", _MM_TOLERANCE),
        ("origin", _MM_TOLERANCE),
        ("direction", _DIRECTION_TOLERANCE),
    ):
        a, b = getattr(mine, name), getattr(theirs, name)
        if any(not math.isclose(x, y, abs_tol=tolerance) for x, y in zip(a, b, strict=True)):
            return f"{name} {_short(a)} vs {_short(b)}:"
    return None


def _short(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"
