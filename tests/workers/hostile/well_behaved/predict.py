"""A model that follows the contract: read the cases, write one prediction per case."""

import json
import os
from pathlib import Path

source = Path(os.environ["HUIYAN_INPUT"])
target = Path(os.environ["HUIYAN_OUTPUT"])
cases = json.loads((source / "cases.json").read_text())
predictions = []
for case in cases:
    (target / case["case_id"]).mkdir()
    (target / case["case_id"] / "mask.bin").write_bytes(bytes(range(256)))
    predictions.append({"case_id": case["case_id"], "authenticity": {"real_human": 1.0}})
(target / "predictions.json").write_text(json.dumps({"cases": predictions}))
print(f"predicted {len(cases)} cases as uid {os.getuid()}")
