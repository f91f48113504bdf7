"""Try to leave a file everywhere but /output, and report which attempts succeeded.

/input/targets.json lists host paths the test wants tried too (its own folders)."""

import json
import os
from pathlib import Path

token = (Path(os.environ["HUIYAN_INPUT"]) / "token.txt").read_text()
folders = ["/", "/input", "/bundle", "/usr", "/etc", "/root", "/proc", "/dev", "/output/.."]
folders += json.loads((Path(os.environ["HUIYAN_INPUT"]) / "targets.json").read_text())
written = []
for folder in folders:
    try:
        (Path(folder) / f"escaped-{token}").write_text("was here")
        written.append(folder)
    except OSError:
        pass
(Path(os.environ["HUIYAN_OUTPUT"]) / "written.json").write_text(json.dumps(written))
