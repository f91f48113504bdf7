"""A tiny declarative schema for predictions and truth, reporting every problem with its field.

A team must learn from one failed run everything that is wrong with its file, so the checker
never stops at the first problem: each node adds what it finds to the `Report` and carries on.
Track modules describe their own ``track`` objects with these nodes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scoring.errors import FileRefused, Problem, Problems, quote
from scoring.images import resolve_inside


@dataclass
class Report:
    """Problems found so far, plus the files that the checked object refers to."""

    folder: Path
    case: str | None = None
    problems: Problems = field(default_factory=Problems)
    files: dict[str, Path] = field(default_factory=dict)  # field path -> resolved file
    label_files: set[str] = field(default_factory=set)  # field paths that must hold labels

    def add(self, field_path: str, message: str) -> None:
        self.problems.append(Problem(self.case, field_path, message))


class Node:
    def check(self, value: Any, path: str, report: Report) -> None:
        raise NotImplementedError


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    """A JSON integer of 400 digits is no float either: every later step would overflow."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class Number(Node):
    """A finite number, optionally bounded (bounds inclusive)."""

    def __init__(self, low: float | None = None, high: float | None = None, positive=False):
        self.low, self.high, self.positive = low, high, positive

    def check(self, value: Any, path: str, report: Report) -> None:
        if not _is_number(value):
            report.add(path, f"must be a number, got {_kind(value)}")
        elif not _finite(value):
            report.add(path, f"must be finite, got {_kind(value)}")
        elif self.positive and value <= 0:
            report.add(path, f"must be > 0, got {value!r}")
        elif (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            report.add(path, f"must be in [{self.low:g}, {self.high:g}], got {value!r}")


PROBABILITY = Number(0.0, 1.0)
COORDINATE = Number()


class Boolean(Node):
    def check(self, value: Any, path: str, report: Report) -> None:
        if not isinstance(value, bool):
            report.add(path, f"must be true or false, got {_kind(value)}")


class Text(Node):
    def check(self, value: Any, path: str, report: Report) -> None:
        if not isinstance(value, str):
            report.add(path, f"must be a string, got {_kind(value)}")


class OneOf(Node):
    def __init__(self, options: Sequence[str]):
        self.options = tuple(options)

    def check(self, value: Any, path: str, report: Report) -> None:
        if value not in self.options:
            report.add(path, f"must be one of {', '.join(self.options)}, got {_quoted(value)}")


class Anything(Node):
    def check(self, value: Any, path: str, report: Report) -> None:
        return None


class Nullable(Node):
    def __init__(self, inner: Node):
        self.inner = inner

    def check(self, value: Any, path: str, report: Report) -> None:
        if value is not None:
            self.inner.check(value, path, report)


class ListOf(Node):
    def __init__(self, item: Node):
        self.item = item

    def check(self, value: Any, path: str, report: Report) -> None:
        if not isinstance(value, list):
            report.add(path, f"must be a list, got {_kind(value)}")
            return
        for index, item in enumerate(value):
            self.item.check(item, f"{path}[{index}]", report)


class Record(Node):
    """An object with required and optional keys; any other key is a problem (a typo)."""

    def __init__(self, required: Mapping[str, Node], optional: Mapping[str, Node] | None = None):
        self.required = dict(required)
        self.optional = dict(optional or {})

    def check(self, value: Any, path: str, report: Report) -> None:
        if not isinstance(value, dict):
            report.add(path, f"must be an object, got {_kind(value)}")
            return
        for key, node in self.required.items():
            if key not in value:
                report.add(_join(path, key), "missing")
            else:
                node.check(value[key], _join(path, key), report)
        for key, node in self.optional.items():
            if key in value:
                node.check(value[key], _join(path, key), report)
        for key in value:
            if key not in self.required and key not in self.optional:
                report.add(_join(path, _quoted(key)[1:-1]), "unknown field")


def Keys(names: Sequence[str], node: Node) -> Record:  # noqa: N802 - reads as a schema type
    """An object with exactly these keys, each holding the same kind of value."""
    return Record({name: node for name in names})


class FileRef(Node):
    """A path, relative to the folder of the JSON file, to an image that must lie inside it.

    The path is walked inside the folder by `scoring.images.resolve_inside` (no absolute path,
    no ``..``, no link of any kind); the file's header is checked later, with the others.
    ``labels`` asks for an integer pixel type (a label mask), refused early so that a float
    probability map sent where a mask belongs is named as such rather than mis-scored.
    """

    def __init__(self, labels: bool):
        self.labels = labels

    def check(self, value: Any, path: str, report: Report) -> None:
        if not isinstance(value, str) or not value:
            report.add(path, f"must be a relative file path, got {_kind(value)}")
            return
        try:
            target = resolve_inside(report.folder, value)
        except FileRefused as refused:
            report.add(path, str(refused))
            return
        report.files[path] = target
        if self.labels:
            report.label_files.add(path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int | float | bool) or value is None:
        return _kind(value) if isinstance(value, int) and not _finite(value) else repr(value)
    return _kind(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, int) and not _finite(value):
        return "a number too large for a float"
    return {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}[
        type(value)
    ]
