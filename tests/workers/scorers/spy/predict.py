"""A scorer that reports what it can reach (the test replaces the real one with it)."""

import json
import os
import socket
from pathlib import Path

import scoring

seen = {"uid": os.getuid(), "root": sorted(os.listdir("/"))}
seen["beside_scoring"] = sorted(os.listdir(Path(scoring.__file__).parents[1]))
try:
    seen["canary"] = Path(os.environ["SPY_CANARY"]).read_text()
except (OSError, KeyError) as error:
    seen["canary"] = type(error).__name__
try:
    socket.create_connection(("127.0.0.1", int(os.environ.get("SPY_PORT", "1"))), timeout=2)
    seen["network"] = "connected"
except OSError as error:
    seen["network"] = type(error).__name__
try:
    Path(os.environ["HUIYAN_PREDICTIONS"], "planted").write_text("x")
    seen["predictions_writable"] = True
except OSError:
    seen["predictions_writable"] = False
seen["predictions"] = sorted(os.listdir(os.environ["HUIYAN_PREDICTIONS"]))
seen["truth"] = sorted(os.listdir(os.environ["HUIYAN_TRUTH"]))
Path(os.environ["HUIYAN_OUTPUT"], "breakdown.json").write_text(json.dumps(seen))
