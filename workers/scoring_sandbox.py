"""Scoring a run's output in the process sandbox, never in the worker's own process.

A prediction file is as hostile as the model that wrote it (a MetaImage header naming a host
file, a decompression bomb, JSON nested 200,000 deep), so the scorer gets what a model gets:
its own leased uid, no network, a memory and time limit, and a read-only view of just the
run's output, the truth and the rules (workers/scorer/predict.py). What it writes back is read
with a size cap. A scorer that runs out of memory or time on a team's files has been defeated
by those files: that is the team's ``invalid_output``. A scorer that crashes otherwise is our
fault: a platform fault, retried and then refunded.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scoring
from ledger.settings import Settings
from workers.sandbox import Limits, SandboxError
from workers.sandbox.process import ProcessSandbox
from workers.sandbox.slot import run_slot

SCORER = Path(__file__).resolve().parent / "scorer"
SCORING_CODE = Path(scoring.__file__).resolve().parent
RESULT_CAP = 256 << 20  # bytes of breakdown.json / invalid.json the worker reads back


class ScorerFault(Exception):
    """The scorer failed for a reason that is not the team's files: the platform's fault."""


@dataclass(frozen=True)
class ScoringOutcome:
    breakdown_json: bytes | None = None  # canonical bytes, as scoring.breakdown.to_json
    invalid: dict[str, Any] | None = None  # {"total", "summary", "report"}
    refused: str | None = None  # the scorer was defeated by the files (memory, time)

    @property
    def breakdown(self) -> dict[str, Any]:
        assert self.breakdown_json is not None
        return json.loads(self.breakdown_json)


def limits_for_scoring(settings: Settings) -> Limits:
    return Limits(
        wall_seconds=settings.run_wall_seconds,
        cpu_seconds=int(settings.run_wall_seconds) * 4,
        memory_bytes=settings.run_memory_bytes,
        output_bytes=2 * RESULT_CAP,
        output_files=4,
    )


def score_in_sandbox(
    settings: Settings, track: int, predictions: Path, truth: Path, rules: bytes
) -> ScoringOutcome:
    limits = limits_for_scoring(settings)
    with tempfile.TemporaryDirectory(prefix="huiyan-scoring-") as scratch:
        work = Path(scratch)
        (work / "input").mkdir()
        (work / "input" / "request.json").write_text(json.dumps({"track": track}))
        (work / "input" / "rules").write_bytes(rules)
        for folder in (work, work / "input"):
            folder.chmod(0o755)
        for name in ("request.json", "rules"):
            (work / "input" / name).chmod(0o644)
        output = work / "output"
        output.mkdir()
        with run_slot(output, limits) as (uid, _):
            sandbox = ProcessSandbox(
                uid=uid,
                gid=uid,
                python_roots=(Path(sys.prefix), Path(sys.base_prefix), SCORING_CODE),
                allow_fallback=settings.sandbox_unisolated,
            )
            try:
                result = sandbox.run(
                    SCORER,
                    work / "input",
                    output,
                    limits,
                    extra_inputs={"predictions": predictions, "truth": truth},
                )
            except SandboxError as error:
                raise ScorerFault(f"the scoring sandbox could not start: {error}") from error
            return _outcome(result.outcome, result.exit_code, result.log, output)


def _outcome(outcome: str, exit_code: int | None, log: bytes, output: Path) -> ScoringOutcome:
    if outcome in ("timeout", "out_of_memory"):
        what = "time" if outcome == "timeout" else "memory"
        return ScoringOutcome(refused=f"the predictions made the scorer run out of {what}")
    if outcome != "completed":
        last = log.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise ScorerFault(f"the scorer {outcome} (exit {exit_code}): {last[0][:300]}")
    breakdown, invalid = output / "breakdown.json", output / "invalid.json"
    if breakdown.is_file():
        return ScoringOutcome(breakdown_json=_read(breakdown))
    if invalid.is_file():
        return ScoringOutcome(invalid=json.loads(_read(invalid)))
    raise ScorerFault("the scorer ended without a result")


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(RESULT_CAP + 1)
    if len(data) > RESULT_CAP:
        raise ScorerFault(f"{path.name} is larger than {RESULT_CAP} bytes")
    return data
