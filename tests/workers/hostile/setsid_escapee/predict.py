"""Leave a grandchild in a session of its own, then exit as if all went well."""

import os
import sys
import time
from pathlib import Path

if len(sys.argv) == 1:
    token = (Path(os.environ["HUIYAN_INPUT"]) / "token.txt").read_text()
    os.execv(sys.executable, [sys.executable, "predict.py", token])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
(Path(os.environ["HUIYAN_OUTPUT"]) / "predictions.json").write_text('{"cases": []}')
