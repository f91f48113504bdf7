"""The published scoring rules: load, check, and fingerprint the rules document.

Every weight, pass mark, threshold and reference time that decides a score lives in the
rules document, never in code, so an organiser can publish (and the ledger can commit to) the
exact rules before the contest starts. The document's identity is the SHA-256 of its exact
bytes: two documents that parse alike but differ in a byte are different rules.
"""

from __future__ import annotations

import hashlib
import math
import re
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
FINAL_DIMENSIONS = (
    "performance_and_efficiency",
    "innovation_and_robustness",
    "clinical_value_and_interpretability",
    "engineering_and_wide_use",
)
AGGREGATIONS = ("mean", "trimmed_mean")
TRIMMED_MEAN_MIN_EXPERTS = 5  # below this, dropping the extremes leaves too few sheets
APPEAL_ITEMS = ("quality", "efficiency", "expert", "gates")  # what a team may appeal
REMEDIES = ("rescore", "rereview", "correct")  # what an arbitrator may order
AWARD_LANGUAGES = ("zh", "en")
# What the contest stores and for how long after its final ends (``retention``); the kinds are
# domain.retention.STORE_KINDS, each read from the key ``<kind>_days``.
RETENTION_KINDS = ("models", "predictions", "testsets")
_SLUG = re.compile(r"[a-z][a-z0-9_]*")


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
class ReviewRules:
    """How the preliminary round's experts review a submission (``preliminary.review``)."""

    experts_per_submission: int
    aggregation: str  # "mean" | "trimmed_mean"
    trim: int  # sheets dropped at each end by the trimmed mean; 0 for the mean
    one_expert_per_team: bool  # an expert never reviews two tracks of the same team


@dataclass(frozen=True)
class AppealRules:
    """Who may appeal what, when, and what an arbitrator may order (``appeals``)."""

    window_days: int  # days after the track's results are published
    items: tuple[str, ...]  # a subset of APPEAL_ITEMS
    remedies: tuple[str, ...]  # a subset of REMEDIES
    one_per_item: bool  # one appeal per team, track and item
    arbitrators: int  # drawn per appeal


@dataclass(frozen=True)
class Award:
    key: str  # a slug, e.g. "first_prize"
    name: Mapping[str, str]  # {"zh": ..., "en": ...}
    places: int  # teams of a track that receive it, given in order down the final ranking


@dataclass(frozen=True)
class FinalRules:
    """The final round (``final``): who advances, how on-site experts score, the awards."""

    advance_per_track: int
    weights: Mapping[str, float]  # the four final dimensions; the same mapping as final_weights
    scale_max: float  # an on-site expert scores each dimension in [0, scale_max]
    awards: tuple[Award, ...]  # in order, best first; places add up to ≤ advance_per_track


@dataclass(frozen=True)
class RetentionRules:
    """How long the stores keep a contest's files after its final ends (``retention``), in
    whole days; 0 means they may go as soon as the contest closes. Personal data has no
    period here: it is shredded when the contest closes (docs/audit.md)."""

    models_days: int
    predictions_days: int
    testsets_days: int

    def days(self, kind: str) -> int:
        return int(getattr(self, f"{kind}_days"))


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
    review: ReviewRules
    appeals: AppealRules
    final: FinalRules
    retention: RetentionRules

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
    review = _review(preliminary.section("review"))
    preliminary.finish()
    appeals = _appeals(root.section("appeals"))
    final = _final(root.section("final"))
    retention = _retention(root.section("retention"))
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
        final_weights=final.weights,
        tie_decimals=int(root.number("tie_decimals", low=0, high=15)),
        tie_break=tie_break,
        review=review,
        appeals=appeals,
        final=final,
        retention=retention,
    )
    root.finish()
    return rules


def _review(section: _Section) -> ReviewRules:
    experts = section.integer("experts_per_submission", low=1)
    aggregation = section.choice("aggregation", AGGREGATIONS)
    trim = section.integer("trim", low=0)
    if aggregation == "mean" and trim != 0:
        raise RulesInvalid(section.key("trim"), "must be 0 when aggregation is mean")
    if aggregation == "trimmed_mean":
        if experts < TRIMMED_MEAN_MIN_EXPERTS:
            raise RulesInvalid(
                section.key("aggregation"),
                f"trimmed_mean needs experts_per_submission ≥ {TRIMMED_MEAN_MIN_EXPERTS},"
                f" got {experts}",
            )
        if trim < 1:
            raise RulesInvalid(section.key("trim"), "must be ≥ 1 for trimmed_mean (0 is the mean)")
        if experts - 2 * trim < 1:
            raise RulesInvalid(
                section.key("trim"),
                f"dropping {trim} at each end of {experts} sheets leaves none",
            )
    review = ReviewRules(
        experts_per_submission=experts,
        aggregation=aggregation,
        trim=trim,
        one_expert_per_team=section.boolean("one_expert_per_team"),
    )
    section.finish()
    return review


def _appeals(section: _Section) -> AppealRules:
    appeals = AppealRules(
        window_days=section.integer("window_days", low=1),
        items=section.subset("items", APPEAL_ITEMS),
        remedies=section.subset("remedies", REMEDIES),
        one_per_item=section.boolean("one_per_item"),
        arbitrators=section.integer("arbitrators", low=1),
    )
    section.finish()
    return appeals


def _final(section: _Section) -> FinalRules:
    weights = section.weights("weights", FINAL_DIMENSIONS)
    advance = section.integer("advance_per_track", low=1)
    scale_max = section.number("scale_max", low=0.0, open_low=True)
    awards = tuple(_award(item) for item in section.sections("awards"))
    keys = [award.key for award in awards]
    if len(set(keys)) != len(keys):
        raise RulesInvalid(section.key("awards"), "award keys must be distinct")
    places = sum(award.places for award in awards)
    if places > advance:
        raise RulesInvalid(
            section.key("awards"),
            f"the awards give {places} places, more than the {advance} teams that advance",
        )
    section.finish()
    return FinalRules(
        advance_per_track=advance, weights=weights, scale_max=scale_max, awards=awards
    )


def _retention(section: _Section) -> RetentionRules:
    retention = RetentionRules(
        **{f"{kind}_days": section.integer(f"{kind}_days", low=0) for kind in RETENTION_KINDS}
    )
    section.finish()
    return retention


def _award(section: _Section) -> Award:
    key = section.string("key")
    if not _SLUG.fullmatch(key):
        raise RulesInvalid(section.key("key"), "must be a slug: a-z, then a-z, 0-9 or _")
    names = section.section("name")
    name = {language: names.string(language) for language in AWARD_LANGUAGES}
    names.finish()
    award = Award(key=key, name=MappingProxyType(name), places=section.integer("places", low=1))
    section.finish()
    return award


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

    def sections(self, name: str) -> list[_Section]:
        """A non-empty list of mappings, each read as ``name[i]``."""
        value = self._get(name)
        if not isinstance(value, list) or not value:
            raise RulesInvalid(self.key(name), "must be a non-empty list")
        return [_Section(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def boolean(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise RulesInvalid(self.key(name), f"must be true or false, got {value!r}")
        return value

    def integer(self, name: str, *, low: int) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RulesInvalid(self.key(name), f"must be a whole number, got {value!r}")
        if value < low:
            raise RulesInvalid(self.key(name), f"must be ≥ {low}, got {value!r}")
        return value

    def subset(self, name: str, options: Sequence[str]) -> tuple[str, ...]:
        values = self.names(name)
        unknown = [v for v in values if v not in options]
        if unknown:
            raise RulesInvalid(
                self.key(name), f"unknown {unknown[0]!r}: must be among {', '.join(options)}"
            )
        return values

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
