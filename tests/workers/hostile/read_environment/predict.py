"""Collect every environment this process can read, and write it all to /output."""

import os
from pathlib import Path

found = [repr(dict(os.environ))]
candidates = {"/proc/1/environ", f"/proc/{os.getppid()}/environ"}
candidates.update(str(p / "environ") for p in Path("/proc").iterdir() if p.name.isdigit())
for candidate in sorted(candidates):
    try:
        found.append(f"{candidate}: {Path(candidate).read_bytes()!r}")
    except OSError as error:
        found.append(f"{candidate}: {error}")
(Path(os.environ["HUIYAN_OUTPUT"]) / "environ.txt").write_text("\n".join(found))
print("\n".join(found))
