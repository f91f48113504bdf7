"""The scorer, as it runs inside the process sandbox (workers/scoring_sandbox.py).

Predictions are a team's hostile files, so the scorer that opens them runs like a model does:
an unprivileged uid of its own, no network, memory and time limits, and a view of nothing but
the run's output (/predictions), the test set's truth (/truth), the rules (/input) and
/output. It writes either ``breakdown.json`` (the canonical bytes the ledger's hash covers)
or ``invalid.json`` (the bounded summary and the full report of what is wrong).
"""

import json
import os
from pathlib import Path

from scoring.breakdown import score_track, to_json
from scoring.errors import PredictionsInvalid
from scoring.rules import parse_rules


def main() -> None:
    request = json.loads(Path(os.environ["HUIYAN_INPUT"], "request.json").read_text())
    rules = parse_rules(Path(os.environ["HUIYAN_INPUT"], "rules").read_bytes())
    predictions = Path(os.environ["HUIYAN_PREDICTIONS"], "predictions.json")
    truth = Path(os.environ["HUIYAN_TRUTH"], "truth.json")
    output = Path(os.environ["HUIYAN_OUTPUT"])
    try:
        scored = score_track(request["track"], predictions, truth, rules)
    except PredictionsInvalid as invalid:
        report = invalid.report_json().decode("utf-8")
        document = {"total": invalid.total, "summary": invalid.summary(), "report": report}
        (output / "invalid.json").write_text(json.dumps(document))
        return
    (output / "breakdown.json").write_bytes(to_json(scored.breakdown))


main()
