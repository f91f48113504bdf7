"""The published scoring rules: load, check, and fingerprint the rules document.

Every weight, pass mark, threshold and reference time that decides a score lives in the
rules document, never in code, so an organiser can publish (and the ledger can commit to) the
exact rules before the contest starts. The document's identity is the SHA-256 of its exact
bytes: two documents that parse alike but differ in a byte are different rules.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

DEFAULT_RULES_NAME = "rules-2026.yaml"
TRACKS = range(1, 9)
REAL_HUMAN = "real_human"  # the class the false-rejection rate protects

# The metric of each track is the contest's, fixed in code; the rules name it so that a reader
# of the published document sees it, and a document naming another metric is refused.
PRIMARY_METRIC = {
    1: "cpm",
    2: "mean_dice_surface_dice",
    3: "mean_sensitivity",
    4: "mean_dice",
    5: "picai_score",
    6: "pf1",
    7: "mean_macro_f1_auroc",
    8: "mean_auroc",
}
TIE_BREAKS = frozenset({"primary_metric", "efficiency", "submission_time"})


class RulesInvalid(ValueError):
    """The rules document is unusable; ``key`` is the dotted path of the offending entry."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"rules: {key}: {message}")
        self.key = key


@dataclass(frozen=True)
class AuthenticityGate:
    classes: tuple[str, ...]
    macro_f1_min: float
    false_rejection_max: float


@dataclass(frozen=True)
class ConformityGate:
    duplicate_pair_f1_min: float
    stitched_f1_min: float
    stitched_threshold: float


@dataclass(frozen=True)
class TrackRules:
    """One track's parameters; ``params`` holds the track-specific keys, already checked."""

    number: int
    name: str
    roles: tuple[str, ...]
    primary: str
    t_ref_seconds: float
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ExpertRubric:
    dimensions: tuple[str, ...]
    attention_points: tuple[str, ...]
    grades: Mapping[int, str]

    @property
    def top_grade(self) -> int:
        return max(self.grades)


@dataclass(frozen=True)
class Rules:
    version: str
    sha256: str
    authenticity: AuthenticityGate
    conformity: ConformityGate
    tracks: Mapping[int, TrackRules]
    weights: Mapping[str, float]
    expert_rubric: ExpertRubric
    final_weights: Mapping[str, float]
    tie_decimals: int
    tie_break: tuple[str, ...]

    def track(self, number: int) -> TrackRules:
        return self.tracks[number]


def rules_sha256(data: bytes) -> str:
    """Hex SHA-256 of the document's exact bytes: the identity the ledger commits to."""
    return hashlib.sha256(data).hexdigest()


def default_rules_path() -> Path:
    """The rules document shipped inside the package (docs/examples holds the same bytes)."""
    return Path(str(resources.files("scoring") / "defaults" / DEFAULT_RULES_NAME))


def load_rules(path: Path | str | None = None) -> Rules:
    """Read and check a rules document; ``None`` means the shipped default."""
    path = Path(path) if path is not None else default_rules_path()
    return parse_rules(path.read_bytes())


def parse_rules(data: bytes) -> Rules:
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as error:
        raise RulesInvalid("(document)", f"not valid YAML: {error}") from None
    root = _Section(document, "")
    gates = root.section("gates")
    auth = gates.section("authenticity")
    authenticity = AuthenticityGate(
        classes=auth.names("classes"),
        macro_f1_min=auth.fraction("macro_f1_min"),
        false_rejection_max=auth.fraction("false_rejection_max"),
    )
    if REAL_HUMAN not in authenticity.classes:
        raise RulesInvalid("gates.authenticity.classes", f"must include {REAL_HUMAN!r}")
    auth.finish()
    conf = gates.section("conformity")
    conformity = ConformityGate(
        duplicate_pair_f1_min=conf.fraction("duplicate_pair_f1_min"),
        stitched_f1_min=conf.fraction("stitched_f1_min"),
        stitched_threshold=conf.fraction("stitched_threshold"),
    )
    conf.finish()
    gates.finish()
    tracks_section = root.section("tracks")
    tracks = {n: _track(tracks_section.section(n), n) for n in TRACKS}
    tracks_section.finish()
    preliminary = root.section("preliminary")
    weights = preliminary.weights("weights", ("quality", "efficiency", "expert"))
    rubric = preliminary.section("expert_rubric")
    expert_rubric = ExpertRubric(
        dimensions=rubric.names("dimensions"),
        attention_points=rubric.names("attention_points"),
        grades=rubric.grades("grades"),
    )
    rubric.finish()
    preliminary.finish()
    final = root.section("final")
    final_weights = final.weights(
        "weights",
        (
            "performance_and_efficiency",
            "innovation_and_robustness",
            "clinical_value_and_interpretability",
            "engineering_and_wide_use",
        ),
    )
    final.finish()
    tie_break = root.names("tie_break")
    unknown = sorted(set(tie_break) - TIE_BREAKS)
    if unknown:
        raise RulesInvalid("tie_break", f"unknown tie-break {unknown[0]!r}")
    rules = Rules(
        version=root.string("version"),
        sha256=rules_sha256(data),
        authenticity=authenticity,
        conformity=conformity,
        tracks=MappingProxyType(tracks),
        weights=weights,
        expert_rubric=expert_rubric,
        final_weights=final_weights,
        tie_decimals=int(root.number("tie_decimals", low=0, high=15)),
        tie_break=tie_break,
    )
    root.finish()
    return rules


def _track(section: _Section, number: int) -> TrackRules:
    primary = section.string("primary")
    if primary != PRIMARY_METRIC[number]:
        raise RulesInvalid(
            section.key("primary"), f"track {number} is scored by {PRIMARY_METRIC[number]!r}"
        )
    params: dict[str, Any] = {}
    if number in (1, 3, 5):
        params["fp_rates"] = section.rates("fp_rates")
    if number in (2, 4):
        params["regions"] = section.regions("regions")
    if number == 2:
        tolerances = section.numbers("surface_dice_tolerance_mm", low=0.0)
        if len(tolerances) != len(params["regions"]):
            raise RulesInvalid(
                section.key("surface_dice_tolerance_mm"), "needs one tolerance per region"
            )
        params["surface_dice_tolerance_mm"] = tolerances
    if number == 4:
        params["hd95_empty_penalty_mm"] = section.number("hd95_empty_penalty_mm", low=0.0)
    if number == 5:
        params["min_overlap"] = section.fraction("min_overlap")
        params["overlap_func"] = section.choice("overlap_func", ("IoU", "DSC"))
    if number == 6:
        params["specificity"] = section.fraction("specificity")
    if number == 7:
        params["classes"] = section.names("classes")
    if number == 8:
        params["labels"] = section.names("labels")
        params["box_iou_threshold"] = section.fraction("box_iou_threshold")
    track = TrackRules(
        number=number,
        name=section.string("name"),
        roles=section.names("roles"),
        primary=primary,
        t_ref_seconds=section.number("t_ref_seconds", low=0.0, open_low=True),
        params=MappingProxyType(params),
    )
    section.finish()
    return track


class _Section:
    """A mapping being read; remembers which keys were used so leftovers are refused by name."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise RulesInvalid(path or "(document)", "must be a mapping")
        self._data = data
        self._path = path
        self._used: set[Any] = set()

    def key(self, name: Any) -> str:
        return f"{self._path}.{name}" if self._path else str(name)

    def _get(self, name: Any) -> Any:
        if name not in self._data:
            raise RulesInvalid(self.key(name), "missing")
        self._used.add(name)
        return self._data[name]

    def finish(self) -> None:
        extra = sorted((k for k in self._data if k not in self._used), key=str)
        if extra:
            raise RulesInvalid(self.key(extra[0]), "unknown key")

    def section(self, name: Any) -> _Section:
        return _Section(self._get(name), self.key(name))

    def string(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise RulesInvalid(self.key(name), "must be a non-empty string")
        return value

    def choice(self, name: str, options: Sequence[str]) -> str:
        value = self.string(name)
        if value not in options:
            raise RulesInvalid(self.key(name), f"must be one of {', '.join(options)}")
        return value

    def number(
        self, name: str, *, low: float | None = None, high: float | None = None, open_low=False
    ) -> float:
        return _number(self._get(name), self.key(name), low, high, open_low)

    def fraction(self, name: str) -> float:
        return self.number(name, low=0.0, high=1.0)

    def numbers(self, name: str, *, low: float | None = None) -> tuple[float, ...]:
        value = self._get(name)
        if not isinstance(value, list) or not value:
            raise RulesInvalid(self.key(name), "must be a non-empty list of numbers")
        return tuple(_number(v, f"{self.key(name)}[{i}]", low, None) for i, v in enumerate(value))

    def rates(self, name: str) -> tuple[float, ...]:
        rates = self.numbers(name, low=0.0)
        if any(b <= a for a, b in zip(rates, rates[1:], strict=False)) or rates[0] <= 0:
            raise RulesInvalid(self.key(name), "must be positive and strictly increasing")
        return rates

    def names(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise RulesInvalid(self.key(name), "must be a non-empty list of strings")
        if len(set(value)) != len(value):
            raise RulesInvalid(self.key(name), "names must be distinct")
        return tuple(value)

    def regions(self, name: str) -> Mapping[str, tuple[int, ...]]:
        section = self.section(name)
        regions = {}
        for region in list(section._data):
            labels = section._get(region)
            if (
                not isinstance(labels, list)
                or not labels
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in labels)
            ):
                raise RulesInvalid(section.key(region), "must be a list of positive label numbers")
            regions[str(region)] = tuple(labels)
        if not regions:
            raise RulesInvalid(self.key(name), "must name at least one region")
        return MappingProxyType(regions)

    def weights(self, name: str, expected: Sequence[str]) -> Mapping[str, float]:
        section = self.section(name)
        weights = {k: _number(section._get(k), section.key(k), 0.0, 1.0) for k in expected}
        section.finish()
        if not math.isclose(sum(weights.values()), 1.0, abs_tol=1e-9):
            raise RulesInvalid(self.key(name), "weights must add up to 1")
        return MappingProxyType(weights)

    def grades(self, name: str) -> Mapping[int, str]:
        section = self.section(name)
        grades = {}
        for grade in list(section._data):
            if not isinstance(grade, int) or isinstance(grade, bool) or grade < 0:
                raise RulesInvalid(section.key(grade), "grade levels must be whole numbers ≥ 0")
            text = section._get(grade)
            if not isinstance(text, str) or not text.strip():
                raise RulesInvalid(section.key(grade), "needs the described standard of the level")
            grades[grade] = text
        if len(grades) < 2 or min(grades) != 0:
            raise RulesInvalid(self.key(name), "needs at least two levels, starting at 0")
        return MappingProxyType(dict(sorted(grades.items())))


def _number(value: Any, key: str, low: float | None, high: float | None, open_low=False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RulesInvalid(key, f"must be a finite number, got {value!r}")
    if low is not None and (value < low or (open_low and value == low)):
        raise RulesInvalid(key, f"must be {'>' if open_low else '≥'} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise RulesInvalid(key, f"must be ≤ {high:g}, got {value!r}")
    return float(value)
