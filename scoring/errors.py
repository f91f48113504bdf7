"""Why an input cannot be scored: each problem names its case and field, all at once.

A hostile file can hold millions of problems (400,000 empty cases, a list of a million wrong
values), so problems are collected in a `Problems`, which counts every one by kind but keeps
only the first `MAX_LISTED` in full: memory stays bounded whatever the file holds. What goes
into a ledger event is `InputsInvalid.summary()` (counts per kind, the first
`SUMMARY_PROBLEMS` problems, every text cut short); the full report, `report_json()`, goes to
the blob store by its hash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_LISTED = 100_000  # problems of one file kept in full; the rest are only counted
MAX_KINDS = 1_000  # distinct kinds counted one by one; the rest under OTHER_KINDS
SUMMARY_PROBLEMS = 50  # problems, and kinds, in the summary an event carries
SUMMARY_TEXT = 200  # characters of a field path or message kept in that summary
_REPORT_TEXT = 2_000  # and in the full report
OTHER_KINDS = "(other kinds)"
_POSITION = re.compile(r"\[\d+\]")


class FileRefused(ValueError):
    """A file that is not opened at all (a link, too large, a format that can name other
    files...); the message names the file by its own name, never by a host path."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file: which case (None: the file), which field, what."""

    case: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"case {self.case}: {self.field}" if self.case else self.field
        return f"{where}: {self.message}"

    def as_dict(self, cap: int | None = None) -> dict[str, Any]:
        return {
            "case": _cut(self.case, cap),
            "field": _cut(self.field, cap),
            "message": _cut(self.message, cap),
        }


def quote(text: str, cap: int = 80) -> str:
    """Text from a team's file as a problem quotes it: cut short (a name can be megabytes)."""
    return repr(text if len(text) <= cap else text[:cap] + "...")


def kind_of(field: str) -> str:
    """A problem's kind: its field path without list positions (``cases[].case_id``)."""
    return _cut(_POSITION.sub("[]", field), 80)


class Problems:
    """Problems found so far: all counted by kind, the first `MAX_LISTED` kept."""

    def __init__(self, problems: Iterable[Problem] = ()) -> None:
        self.listed: list[Problem] = []
        self.kinds: dict[str, int] = {}
        self.total = 0
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        self._count(kind_of(problem.field), 1)
        if len(self.listed) < MAX_LISTED:
            self.listed.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        if isinstance(problems, Problems):
            for kind, count in problems.kinds.items():
                self._count(kind, count)
            self.listed.extend(problems.listed[: MAX_LISTED - len(self.listed)])
        else:
            for problem in problems:
                self.append(problem)

    def _count(self, kind: str, count: int) -> None:
        if kind not in self.kinds and len(self.kinds) >= MAX_KINDS:
            kind = OTHER_KINDS
        self.kinds[kind] = self.kinds.get(kind, 0) + count
        self.total += count

    def __len__(self) -> int:
        return self.total

    def __bool__(self) -> bool:
        return self.total > 0

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.listed)


class InputsInvalid(ValueError):
    """An input file has problems; ``problems`` lists them, sorted (at most `MAX_LISTED`),
    ``total`` and ``kinds`` count all of them."""

    source = "inputs"

    def __init__(self, problems: Iterable[Problem]) -> None:
        collected = problems if isinstance(problems, Problems) else Problems(problems)
        self.problems = sorted(collected.listed, key=lambda p: (p.case or "", p.field, p.message))
        self.total = collected.total
        self.kinds = dict(collected.kinds)
        shown = "\n".join(str(p) for p in self.problems[:SUMMARY_PROBLEMS])
        more = self.total - min(len(self.problems), SUMMARY_PROBLEMS)
        tail = f"\n... and {more} more" if more else ""
        super().__init__(f"{self.source} invalid ({self.total} problems):\n{shown}{tail}")

    def summary(self) -> dict[str, Any]:
        """What a ledger event may hold: bounded whatever the file held."""
        kinds = sorted(self.kinds.items(), key=lambda item: (-item[1], item[0]))
        shown = dict(kinds[:SUMMARY_PROBLEMS])
        rest = sum(count for _, count in kinds[SUMMARY_PROBLEMS:])
        if rest:
            shown[OTHER_KINDS] = shown.get(OTHER_KINDS, 0) + rest
        return {
            "problems": self.total,
            "kinds": shown,
            "first": [p.as_dict(SUMMARY_TEXT) for p in self.problems[:SUMMARY_PROBLEMS]],
        }

    def report_json(self) -> bytes:
        """The full report (every listed problem, every kind) as canonical JSON bytes."""
        document = {
            "source": self.source,
            "problems": self.total,
            "kinds": dict(sorted(self.kinds.items())),
            "listed": [p.as_dict(_REPORT_TEXT) for p in self.problems],
            "not_listed": self.total - len(self.problems),
        }
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")


class PredictionsInvalid(InputsInvalid):
    """The team's predictions (or a file they name) break the contract; nothing is scored."""

    source = "predictions"


class TruthInvalid(InputsInvalid):
    """The organiser's truth cannot score this track: an organiser error, caught the same way."""

    source = "truth"


def _cut(text: str | None, cap: int | None) -> str | None:
    if text is None or cap is None or len(text) <= cap:
        return text
    return text[: cap - 3] + "..."
