"""The output folder before and after a run, shared by every backend.

Whatever a model leaves in ``/output`` is hostile until proven otherwise: a symlink would make
the scorer read (or a later copy leak) a host file, a fifo would hang it, a hard link would
let a host file be rewritten through the output, and a flood of bytes would fill the disk.
Collection walks the folder without following links and accepts regular files only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workers.sandbox.contract import CollectedFile, SandboxError

_CHUNK = 1 << 20


class _Refused(Exception):
    pass


def prepare_output_dir(output_dir: Path, uid: int, gid: int) -> None:
    """Give the model an empty folder only it (and the worker) can write.

    An existing file would be collected as if the model had written it, so the folder must be
    empty. Ownership changes only when the worker is root; otherwise the model runs as the
    worker's own uid and the folder is already writable.
    """
    info = os.lstat(output_dir) if output_dir.exists() or output_dir.is_symlink() else None
    if info is None or not stat.S_ISDIR(info.st_mode):
        raise SandboxError(f"output folder {output_dir} must be an existing directory")
    if any(output_dir.iterdir()):
        raise SandboxError(f"output folder {output_dir} must be empty before a run")
    if os.geteuid() == 0:
        os.chown(output_dir, uid, gid)
    os.chmod(output_dir, 0o700)


def collect_outputs(
    output_dir: Path, *, max_bytes: int, max_files: int
) -> tuple[tuple[CollectedFile, ...], str | None]:
    """Return (files, None) for an acceptable folder, or ((), why) for the first refusal."""
    walk = _Walk(max_bytes=max_bytes, max_files=max_files)
    try:
        walk.folder(output_dir, "")
    except _Refused as refusal:
        return (), str(refusal)
    return tuple(sorted(walk.collected, key=lambda f: f.path)), None


class _Walk:
    def __init__(self, *, max_bytes: int, max_files: int) -> None:
        self.max_bytes, self.max_files = max_bytes, max_files
        self.collected: list[CollectedFile] = []
        self.total = 0

    def folder(self, folder: Path, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    raise _Refused(f"{relative}: symbolic link to {os.readlink(entry.path)!r}")
                if stat.S_ISDIR(info.st_mode):
                    self.folder(Path(entry.path), relative + "/")
                else:
                    self.file(Path(entry.path), relative, info)

    def file(self, path: Path, relative: str, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(f"{relative}: not a regular file ({_kind(info.st_mode)})")
        if info.st_nlink > 1:
            raise _Refused(f"{relative}: hard link ({info.st_nlink} names for one file)")
        if len(self.collected) >= self.max_files:
            raise _Refused(f"more than {self.max_files} output files")
        self.total += info.st_size
        if self.total > self.max_bytes:
            raise _Refused(f"outputs exceed {self.max_bytes} bytes (at {relative})")
        self.collected.append(_hash(path, relative, info))


def _hash(path: Path, relative: str, seen: os.stat_result) -> CollectedFile:
    # O_NOFOLLOW and the inode check make sure we hash the file we inspected, not a link
    # swapped in since; O_NONBLOCK means a fifo could never hang the worker.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
            raise _Refused(f"{relative}: replaced while being collected")
        digest = hashlib.sha256()
        size = 0
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    if size != seen.st_size:
        raise _Refused(f"{relative}: changed size while being collected")
    return CollectedFile(path=relative, size=size, sha256=digest.hexdigest())


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return f"mode {mode:o}"


def release_output_dir(output_dir: Path) -> None:
    """Unmount a cap left on the folder by a worker that was killed mid-run (its retry then
    starts from an empty folder; the killed run's files vanish with the tmpfs)."""
    if os.path.ismount(output_dir):
        subprocess.run(["umount", "--lazy", str(output_dir)], capture_output=True, check=False)


@contextmanager
def capped_output_dir(
    output_dir: Path, *, max_bytes: int, max_files: int, uid: int, gid: int
) -> Iterator[list[str]]:
    """Give the output folder its size cap *while* the model runs, and leave nothing behind.

    A worker that runs as root mounts a tmpfs of ``max_bytes`` (and ``max_files`` inodes) on
    the folder, owned by the model's uid, nosuid, nodev, noexec: a model that writes more gets
    ENOSPC, and nothing it writes ever reaches the host's disk. On leaving, the tmpfs is
    unmounted, so whatever a refused run wrote is gone; the caller copies what it accepted
    first (``copy_outputs``). Elsewhere (a non-root worker, a host that refuses the mount) the
    cap is checked after the run, and the yielded warnings say so.
    """
    warnings: list[str] = []
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        options = (
            f"size={max_bytes},nr_inodes={max_files + 64},mode=0700,uid={uid},gid={gid},"
            "nosuid,nodev,noexec"
        )
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "huiyan-output", str(output_dir)],
            capture_output=True,
            check=False,
        )
        mounted = done.returncode == 0
        if not mounted:
            why = done.stderr.decode(errors="replace").strip()
            warnings.append(f"output folder not capped during the run (mount: {why})")
    else:
        warnings.append("output folder not capped during the run (the worker is not root)")
    try:
        yield warnings
    finally:
        if mounted:
            subprocess.run(["umount", "--lazy", str(output_dir)], capture_output=True, check=False)


def copy_outputs(output_dir: Path, files: tuple[CollectedFile, ...], target: Path) -> None:
    """Copy the collected files into ``target`` (which must not exist yet), each checked
    against the hash collection recorded, then move it into place in one rename: a folder
    in the store is always whole."""
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for collected in files:
            source, destination = output_dir / collected.path, staging / collected.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            digest = hashlib.sha256()
            with os.fdopen(fd, "rb") as reader, open(destination, "xb") as writer:
                while chunk := reader.read(_CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
            if digest.hexdigest() != collected.sha256:
                raise SandboxError(f"{collected.path} changed after it was collected")
        staging.mkdir(parents=True, exist_ok=True)  # a run with no files at all
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(staging)  # an identical run got there first: same bytes, same name
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
