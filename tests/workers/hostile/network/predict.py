"""Try to reach the worker's loopback listener, the internet and DNS; report what worked."""

import json
import os
import socket
from pathlib import Path

port = int((Path(os.environ["HUIYAN_INPUT"]) / "port.txt").read_text())
attempts = {"worker_listener": ("127.0.0.1", port), "internet": ("1.1.1.1", 443)}
reached = {}
for name, address in attempts.items():
    try:
        with socket.create_connection(address, timeout=1):
            reached[name] = True
    except OSError as error:
        reached[name] = str(error)
try:
    reached["dns"] = socket.getaddrinfo("pypi.org", 443)[0][4][0]
except OSError as error:
    reached["dns"] = str(error)
reached["interfaces"] = [name for _, name in socket.if_nameindex()]
(Path(os.environ["HUIYAN_OUTPUT"]) / "network.json").write_text(json.dumps(reached))
