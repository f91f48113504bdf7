"""A log that keeps the first bytes a model prints and counts the rest.

A model can print a gigabyte; the worker must keep reading (or the model blocks on a full pipe
and the run never ends) without keeping it. The head of a log is where tracebacks of failed
imports and bad inputs appear, so the head is what we keep.
"""

from __future__ import annotations


class CappedLog:
    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._kept = bytearray()
        self.seen = 0

    def feed(self, chunk: bytes) -> None:
        self.seen += len(chunk)
        room = self._cap - len(self._kept)
        if room > 0:
            self._kept += chunk[:room]

    @property
    def truncated(self) -> bool:
        return self.seen > self._cap

    def value(self) -> bytes:
        return bytes(self._kept)
