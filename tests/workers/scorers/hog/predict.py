"""A scorer that a team's files make allocate without end."""

blocks = []
while True:
    blocks.append(bytearray(64 << 20))
