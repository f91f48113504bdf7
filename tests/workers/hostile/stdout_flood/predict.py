"""Print 1 GiB, then finish normally."""

import sys

block = (b"x" * ((1 << 20) - 1)) + b"\n"
for _ in range(1024):
    sys.stdout.buffer.write(block)
