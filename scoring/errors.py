"""Why an input cannot be scored: each problem names its case and field, all at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file: which case (None: the file), which field, what."""

    case: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"case {self.case}: {self.field}" if self.case else self.field
        return f"{where}: {self.message}"


class InputsInvalid(ValueError):
    """An input file has problems; ``problems`` lists all of them, sorted."""

    source = "inputs"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.case or "", p.field, p.message))
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{self.source} invalid ({len(self.problems)} problems):\n{lines}")


class PredictionsInvalid(InputsInvalid):
    """The team's predictions (or a file they name) break the contract; nothing is scored."""

    source = "predictions"


class TruthInvalid(InputsInvalid):
    """The organiser's truth cannot score this track: an organiser error, caught the same way."""

    source = "truth"
