"""Fork without end; every child forks too. Marked with the test's token so that the test
can look for survivors in the host's /proc after the run."""

import contextlib
import os
import sys
from pathlib import Path

if len(sys.argv) == 1:
    token = (Path(os.environ["HUIYAN_INPUT"]) / "token.txt").read_text()
    os.execv(sys.executable, [sys.executable, "predict.py", token])
while True:
    with contextlib.suppress(OSError):
        os.fork()
