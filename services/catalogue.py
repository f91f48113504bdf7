"""The data catalogue of each track (public): what the contest says about its data, and the
public facts of the test sets registered for it, never the data itself.

What a model receives and must return comes from the code that checks it, not from a page
written beside it: the image roles from the contest and the rules in force, the output format
from the track's prediction schema (scoring/tracks/*, scoring/schema.py), the primary metric
from the rules. A test set appears by its SHA-256, its number of cases and whether it is a
public debug set, as the ledger records it (domain/testsets.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.contest import Contest
from domain.registration import Registration
from domain.submissions import Submissions
from ledger.blobs import BlobStore
from scoring.rules import Rules, TrackRules, load_rules
from scoring.schema import (
    Boolean,
    FileRef,
    ListOf,
    Node,
    Nullable,
    Number,
    OneOf,
    Record,
    Text,
)
from scoring.tracks import track_module
from services.judging_steps import published_rules

# Which modality an image role belongs to (SCORING.md §1 and §3): the prefix before "_".
_MODALITIES = {
    "ct": "CT",
    "cta": "CTA",
    "t1": "MRI",
    "t1c": "MRI",
    "t2": "MRI",
    "flair": "MRI",
    "t2w": "MRI",
    "adc": "MRI",
    "hbv": "MRI",
    "l": "mammography",
    "r": "mammography",
    "us": "ultrasound",
    "cxr": "X-ray",
}
# Volumes come as NIfTI or MetaImage, planar images as PNG or MetaImage (SCORING.md §1).
_PLANAR = frozenset({"mammography", "ultrasound", "X-ray"})
_KEYS_SHOWN = 3  # an object of more keys of one kind is shown by its first keys


@dataclass(frozen=True)
class TestSetFacts:
    __test__ = False  # not a pytest class

    sha256: str
    cases: int
    public: bool
    at: Any
    reason: str


@dataclass(frozen=True)
class TrackData:
    number: int
    name: dict[str, str]
    groups: list[str]
    roles: list[str]
    modality: str  # CT, CTA, MRI, mammography, ultrasound, X-ray
    planar: bool  # 2D images (else 3D volumes)
    tasks: list[str]  # what the prediction holds: "segmentation", "detection", ...
    output: str  # the track field of a case prediction, as its schema reads
    primary_metric: str
    current: TestSetFacts | None
    earlier: list[TestSetFacts]


def catalogue(
    registration: Registration, submissions: Submissions, blobs: BlobStore, contest: Contest
) -> list[TrackData]:
    """Every track of the contest, in its order, with its registered test sets."""
    rules = rules_in_force(registration, blobs, contest.id)
    testsets = submissions.testsets(contest.id)
    found = []
    for track in contest.tracks:
        number = track["id"]
        scoring = rules.tracks.get(number)
        sets = [_facts(record) for record in testsets.history if record["track"] == number]
        current = testsets.current.get(str(number))
        modality = _modality(track["image_roles"])
        found.append(
            TrackData(
                number=number,
                name=dict(track["name"]),
                groups=list(track["groups"]),
                roles=list(track["image_roles"]),
                modality=modality,
                planar=modality in _PLANAR,
                tasks=_tasks(scoring) if scoring else [],
                output=describe(_schema(scoring)) if scoring else "",
                primary_metric=scoring.primary if scoring else "",
                current=_facts(current) if current else None,
                earlier=[s for s in sets if current is None or s.sha256 != current["sha256"]],
            )
        )
    return found


def rules_in_force(registration: Registration, blobs: BlobStore, contest_id: UUID) -> Rules:
    """The published rules in force, else the default document (before any publication)."""
    book = registration.rules(contest_id)
    if not book.versions:
        return load_rules()
    return published_rules(blobs, book.versions[-1]["blob"])


def _facts(record: dict[str, Any]) -> TestSetFacts:
    return TestSetFacts(record["sha256"], record["cases"], bool(record.get("public")),
                        record["at"], record.get("reason", ""))  # fmt: skip


def _modality(roles: list[str]) -> str:
    found = {_MODALITIES.get(role.split("_")[0], role) for role in roles}
    return " / ".join(sorted(found))


def _schema(track: TrackRules) -> Node:
    return track_module(track.number).prediction_schema(track)


def _tasks(track: TrackRules) -> list[str]:
    """The kinds of output the schema asks for, each named once, in its order."""
    found: list[str] = []

    def walk(node: Node) -> None:
        kind = None
        if isinstance(node, FileRef):
            kind = "segmentation" if node.labels else "detection map"
        elif isinstance(node, ListOf):
            kind = "detection"
        elif isinstance(node, Number) and node.low == 0.0 and node.high == 1.0:
            kind = "classification"
        if kind is not None:
            if kind not in found:
                found.append(kind)
            return
        inner = getattr(node, "record", None) or getattr(node, "inner", None)
        if inner is not None:
            walk(inner)
        if isinstance(node, Record):
            for child in [*node.required.values(), *node.optional.values()]:
                walk(child)

    walk(_schema(track))
    return found


def describe(node: Node) -> str:
    """A schema as a compact JSON-like line: ``{"mask": file (label mask), ...}``."""
    if isinstance(node, Record):
        return _record(node)
    if isinstance(node, ListOf):
        return f"[{describe(node.item)}, …]"
    if isinstance(node, Nullable):
        return f"{describe(node.inner)} | null"
    if isinstance(node, FileRef):
        return "file (label mask)" if node.labels else "file (map)"
    if isinstance(node, Number):
        if node.low == 0.0 and node.high == 1.0:
            return "p ∈ [0, 1]"
        return "number > 0" if node.positive else "number"
    if isinstance(node, Boolean):
        return "true | false"
    if isinstance(node, Text):
        return "text"
    if isinstance(node, OneOf):
        return " | ".join(f'"{option}"' for option in node.options)
    inner = getattr(node, "record", None)
    if isinstance(inner, Node):
        return f"{describe(inner)} (sum 1)"
    return "0 | 1"


def _record(node: Record) -> str:
    parts = []
    values = list(node.required.values())
    if len(values) > _KEYS_SHOWN and all(value is values[0] for value in values):
        keys = list(node.required)
        shown = ", ".join(f'"{key}"' for key in keys[:_KEYS_SHOWN])
        parts.append(f"{shown}, … ({len(keys)} keys): {describe(values[0])}")
    else:
        parts += [f'"{key}": {describe(value)}' for key, value in node.required.items()]
    parts += [f'"{key}"?: {describe(value)}' for key, value in node.optional.items()]
    return "{" + ", ".join(parts) + "}"
