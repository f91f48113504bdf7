"""Fill /tmp until the disk says no, and report how much it took."""

import json
import os
from pathlib import Path

written = 0
block = b"\0" * (1 << 20)
try:
    with open("/tmp/filler", "wb") as filler:
        while written < (1 << 30):
            filler.write(block)
            filler.flush()
            written += len(block)
except OSError as error:
    stopped_by = error.strerror
else:
    stopped_by = None
result = {"written": written, "stopped_by": stopped_by}
(Path(os.environ["HUIYAN_OUTPUT"]) / "tmp.json").write_text(json.dumps(result))
