"""Touch memory 16 MiB at a time until something stops us."""

hoard = []
while True:
    hoard.append(b"\x01" * (16 << 20))
