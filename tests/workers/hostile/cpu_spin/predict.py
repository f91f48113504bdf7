"""Spin on the CPU for ever, ignoring the polite signals."""

import signal

for polite in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(polite, signal.SIG_IGN)
while True:
    pass
