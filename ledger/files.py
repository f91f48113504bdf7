"""The one way huiyan writes a file that must never be seen half-written: blobs, keys, wrapped
data keys, witness and session state.

The bytes go to a temporary file beside the target (created 0600, so a secret is never open
to others even for a moment), are flushed to disk, get their final mode, and are then moved
into place: ``os.replace`` for a file that may be updated, ``os.link`` for one that must never
be overwritten (a key: the name already taken raises ``FileExistsError``). The folder is synced
too, so after a crash the file is either there whole or not there at all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(
    path: Path, data: bytes, *, mode: int = 0o600, exclusive: bool = False
) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if exclusive:
            os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
