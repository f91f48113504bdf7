"""Model intake: turn what a team hands in into something the ledger can name by digest.

A **bundle** (a folder with ``predict.py``, or a tar or zip archive of one) is unpacked into
``HUIYAN_HOME/models/<sha256>/``, where the SHA-256 is that of the bundle's file manifest
(:func:`tree_sha256`), so a folder and any archive of it get the same name. An **image** is
inspected through the Docker engine, refused when its configuration is unsafe
(:func:`workers.sandbox.images.refuse_unsafe_image`), and named by its image id
(``sha256:...``); a tag is never recorded.

An upload is hostile until proven otherwise. Archives are read as a stream, member by member:
links, devices and fifos are refused, every name is checked (no absolute path, no ``..``, no
backslash) and tar members also pass the standard library's ``data`` filter; the byte cap is
enforced while the bytes are written, not after, and the member count as members come. The
store's own names are generated (the content hash); the upload's file name is never used.
Everything is unpacked into a hidden folder beside the store and renamed into place only when
complete, so a refusal or a crash leaves nothing behind under a valid name.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ledger.settings import Settings
from workers.sandbox.contract import BUNDLE_ENTRY, GiB
from workers.sandbox.images import UnsafeImage, refuse_unsafe_image

_CHUNK = 1 << 20
_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")
_PINNED = re.compile(r"@(sha256:[0-9a-f]{64})$")


class IntakeRefused(ValueError):
    """A model or test set upload cannot be taken; the message says what is wrong with it."""


class ImageUnavailable(LookupError):
    """The engine has no such image (and could not pull it), or there is no engine."""


@dataclass(frozen=True)
class IntakeLimits:
    """What one upload may unpack to. Bundles carry weights, so the cap is generous; it is
    still far below the team's 1 TB disk [Q&A 13]."""

    max_bytes: int = 16 * GiB
    max_members: int = 20_000


BUNDLE_LIMITS = IntakeLimits()
TESTSET_LIMITS = IntakeLimits(max_bytes=1024 * GiB, max_members=2_000_000)


@dataclass(frozen=True)
class StoredFolder:
    sha256: str  # of the file manifest (tree_sha256)
    path: Path
    files: int
    size: int
    created: bool  # False when the same content was already stored


@dataclass(frozen=True)
class StoredModel:
    kind: str  # "bundle" | "image"
    ref: str  # what the ledger records: the manifest's SHA-256 hex, or the image's "sha256:" id
    folder: StoredFolder | None = None  # where a bundle lies


def tree_sha256(files: Mapping[str, str]) -> str:
    """SHA-256 of the manifest ``"<file sha256>  <relative path>\\n"`` sorted by path: the
    output of ``sha256sum`` over the sorted file list, so anyone can recompute it with
    ``find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum``.
    Empty folders and file modes are not part of it."""
    manifest = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()


# --- the content store -----------------------------------------------------------------------


class FolderStore:
    """Folders by content hash (model bundles, hidden test sets), read-only once stored."""

    def __init__(self, root: Path, limits: IntakeLimits = BUNDLE_LIMITS) -> None:
        self.root = Path(root)
        self.limits = limits

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise IntakeRefused(f"{sha256!r} is not a SHA-256 hex digest")
        return self.root / sha256

    def remove(self, sha256: str) -> bool:
        """Destroys a stored folder (its retention period has run); False when absent."""
        return remove_tree(self.path(sha256))

    def add(self, source: Path, *, required: Sequence[str]) -> StoredFolder:
        """Stores a folder or an archive of one. ``required`` names files that must be at
        its top; a single wrapping folder (``tar czf b.tgz bundle/``) is looked through."""
        source = Path(source)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        try:
            unpacked = _Unpacked(staging, self.limits)
            for member in _members(source, staging):
                unpacked.take(member)
            top, files = unpacked.top(required, shown=source.name)
            return self._place(top, files)
        finally:
            _remove(staging)

    def _place(self, top: Path, files: dict[str, tuple[str, int]]) -> StoredFolder:
        digest = tree_sha256({path: sha for path, (sha, _) in files.items()})
        target = self.path(digest)
        size = sum(length for _, length in files.values())
        if target.exists():
            return StoredFolder(digest, target, len(files), size, created=False)
        _make_read_only(top)
        try:
            os.rename(top, target)
        except OSError:
            if target.exists():  # the same content arrived at the same moment
                return StoredFolder(digest, target, len(files), size, created=False)
            raise
        target.chmod(0o555)
        return StoredFolder(digest, target, len(files), size, created=True)


def model_store(settings: Settings) -> FolderStore:
    return FolderStore(settings.home / "models", BUNDLE_LIMITS)


def testset_store(settings: Settings) -> FolderStore:
    return FolderStore(settings.home / "testsets", TESTSET_LIMITS)


def add_bundle(store: FolderStore, source: Path) -> StoredModel:
    folder = store.add(source, required=(BUNDLE_ENTRY,))
    return StoredModel("bundle", folder.sha256, folder)


# --- members of a folder or an archive ---------------------------------------------------------


@dataclass
class _Member:
    name: str
    is_dir: bool
    declared: int  # bytes announced by the header (0 for folders)
    open: Callable[[], IO[bytes]]


def _members(source: Path, staging: Path) -> Iterator[_Member]:
    if source.is_symlink():
        raise IntakeRefused(f"{source.name} is a symbolic link; give the folder or file itself")
    if source.is_dir():
        yield from _folder_members(source)
    elif source.is_file():
        if zipfile.is_zipfile(source):
            yield from _zip_members(source)
        else:
            yield from _tar_members(source, staging)
    else:
        raise IntakeRefused(f"{source} is neither a folder nor a file")


def _folder_members(root: Path) -> Iterator[_Member]:
    for folder, folders, names in os.walk(root):  # os.walk does not follow links
        for name in sorted(folders) + sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise IntakeRefused(f"{relative} is a symbolic link; links are refused")
            if stat.S_ISDIR(mode):
                yield _Member(relative, True, 0, _nothing)
            elif stat.S_ISREG(mode):
                yield _Member(relative, False, 0, lambda path=path: _open_no_follow(path))
            else:
                raise IntakeRefused(f"{relative} is not a regular file (device, fifo or socket)")


def _tar_members(path: Path, staging: Path) -> Iterator[_Member]:
    try:
        with tarfile.open(path, mode="r|*") as archive:  # a stream: one pass, no seeking back
            for member in archive:
                yield _tar_member(archive, member, staging)
    except (tarfile.ReadError, tarfile.CompressionError, EOFError) as error:
        raise IntakeRefused(
            f"{path.name} is not a folder or a readable tar or zip archive ({error})"
        ) from None


def _tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, staging: Path) -> _Member:
    name = member.name
    if member.issym() or member.islnk():
        raise IntakeRefused(f"member {name} is a link; links are refused")
    if not (member.isfile() or member.isdir()):
        raise IntakeRefused(f"member {name} is a device, fifo or other special file")
    _parts(name)  # our own message first; the standard filter below checks the same and more
    try:
        checked = tarfile.data_filter(member, str(staging))
    except tarfile.FilterError as error:
        raise IntakeRefused(f"member {name} refused by the tar data filter: {error}") from None
    if checked.isdir():
        return _Member(name, True, 0, _nothing)
    return _Member(name, False, checked.size, lambda: archive.extractfile(checked))


def _zip_members(path: Path) -> Iterator[_Member]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise IntakeRefused(f"{path.name} is a damaged zip archive: {error}") from None
    with archive:
        for info in archive.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise IntakeRefused(f"member {info.filename} is a link; links are refused")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise IntakeRefused(f"member {info.filename} is a device, fifo or special file")
            if info.flag_bits & 0x1:
                raise IntakeRefused(f"member {info.filename} is encrypted")
            yield _Member(
                info.filename,
                info.is_dir(),
                info.file_size,
                lambda info=info: archive.open(info),
            )


def _nothing() -> IO[bytes]:
    raise AssertionError("a folder has no bytes")


def _open_no_follow(path: Path) -> IO[bytes]:
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb")


def _parts(name: str) -> tuple[str, ...]:
    """The member's path inside the bundle, or a refusal naming what is wrong with it."""
    if "\x00" in name or "\\" in name:
        raise IntakeRefused(f"member {name!r} has a backslash or NUL in its name")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise IntakeRefused(f"member {name} has an absolute path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise IntakeRefused(f"member {name} points outside the bundle (..)")
    return parts


# --- unpacking under a budget ------------------------------------------------------------------


class _Unpacked:
    """Members written into the staging folder, counted, capped and hashed as they come."""

    def __init__(self, staging: Path, limits: IntakeLimits) -> None:
        self.staging, self.limits = staging, limits
        self.members, self.written = 0, 0
        self.files: dict[tuple[str, ...], tuple[str, int]] = {}

    def take(self, member: _Member) -> None:
        parts = _parts(member.name)
        if not parts:
            return  # the archive's own top folder, "./"
        self.members += 1
        if self.members > self.limits.max_members:
            raise IntakeRefused(f"more than {self.limits.max_members} members")
        target = self.staging.joinpath(*parts)
        try:
            if member.is_dir:
                target.mkdir(parents=True, exist_ok=True)
                return
            self._require_room(member.declared, member.name)  # a header may announce a bomb
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with member.open() as reader, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
                self.files[parts] = self._copy(reader, out, member.name)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise IntakeRefused(
                f"member {member.name} appears twice, or as both file and folder"
            ) from None
        except zipfile.BadZipFile as error:
            raise IntakeRefused(f"member {member.name} is damaged: {error}") from None

    def _copy(self, reader: IO[bytes], out: IO[bytes], name: str) -> tuple[str, int]:
        digest, length = hashlib.sha256(), 0
        # Never ask for more than one byte past the cap: the cap bounds what is read too.
        while chunk := reader.read(min(_CHUNK, self.limits.max_bytes - self.written + 1)):
            self._spend(len(chunk), name)
            length += len(chunk)
            digest.update(chunk)
            out.write(chunk)
        return digest.hexdigest(), length

    def _require_room(self, size: int, name: str) -> None:
        if self.written + size > self.limits.max_bytes:
            raise IntakeRefused(
                f"unpacking {name} goes past the cap of {self.limits.max_bytes} bytes"
            )

    def _spend(self, size: int, name: str) -> None:
        self._require_room(size, name)
        self.written += size

    def top(
        self, required: Sequence[str], *, shown: str
    ) -> tuple[Path, dict[str, tuple[str, int]]]:
        """The folder that holds the required files, and its files by relative path."""
        prefix: tuple[str, ...] = ()
        entries = list(self.staging.iterdir())
        if not self._has(required, prefix) and len(entries) == 1 and entries[0].is_dir():
            prefix = (entries[0].name,)
        missing = [name for name in required if not self._has((name,), prefix)]
        if missing:
            raise IntakeRefused(f"{shown} has no {', '.join(missing)} at its top")
        files = {
            "/".join(parts[len(prefix) :]): facts
            for parts, facts in self.files.items()
            if parts[: len(prefix)] == prefix
        }
        return self.staging.joinpath(*prefix), files

    def _has(self, names: Sequence[str], prefix: tuple[str, ...]) -> bool:
        return all((*prefix, *name.split("/")) in self.files for name in names)


def _make_read_only(top: Path) -> None:
    """Files 0444 and folders 0555 below ``top``: the sandbox user reads, nobody writes."""
    for folder, folders, names in os.walk(top):
        for name in names:
            os.chmod(Path(folder) / name, 0o444)
        for name in folders:
            os.chmod(Path(folder) / name, 0o555)


def remove_tree(path: Path) -> bool:
    """Removes a read-only stored folder and everything in it; False when it was not there."""
    if not path.exists():
        return False
    _remove(path)
    return True


def _remove(path: Path) -> None:
    if not path.exists():
        return
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o755)
    shutil.rmtree(path)


# --- images -------------------------------------------------------------------------------------


def resolve_image(reference: str, inspect: Callable[[str], Mapping[str, Any]]) -> StoredModel:
    """The image's id after its configuration passed the checks. ``inspect`` returns what
    ``docker image inspect`` does (the engine's answer; :func:`docker_inspect` in production)."""
    try:
        attrs = inspect(reference)
    except ImageUnavailable as error:
        raise IntakeRefused(
            f"image {reference} cannot be resolved to a digest ({error}); "
            "an image is recorded by digest, never by tag"
        ) from None
    image_id = attrs.get("Id") or ""
    if not _IMAGE_ID.fullmatch(image_id):
        raise IntakeRefused(f"image {reference} has no sha256 id (got {image_id!r})")
    if pinned := _PINNED.search(reference):
        digests = {image_id} | {
            entry.rsplit("@", 1)[-1] for entry in attrs.get("RepoDigests") or []
        }
        if pinned.group(1) not in digests:
            raise IntakeRefused(f"image {reference} does not have the digest it names")
    try:
        refuse_unsafe_image(attrs.get("Config") or {})
    except UnsafeImage as error:
        raise IntakeRefused(f"image {reference} refused: {error}") from None
    return StoredModel("image", image_id)


def docker_inspect(reference: str) -> Mapping[str, Any]:
    """Looks the image up in the local engine, pulling it once when it is not there."""
    import docker
    from docker.errors import APIError, DockerException, ImageNotFound

    try:
        client = docker.from_env()
        try:
            return client.images.get(reference).attrs
        except ImageNotFound:
            return client.images.pull(reference).attrs
    except ImageNotFound:
        raise ImageUnavailable("no such image") from None
    except (APIError, DockerException) as error:
        raise ImageUnavailable(f"Docker engine: {error}") from None


def take_model(
    reference: str,
    store: FolderStore,
    inspect: Callable[[str], Mapping[str, Any]] = docker_inspect,
) -> StoredModel:
    """A path (folder or archive) is a bundle; anything else names an image."""
    path = Path(reference).expanduser()
    if path.exists() or path.is_symlink():
        return add_bundle(store, path)
    if reference.startswith(("/", ".", "~")):
        raise IntakeRefused(f"{reference}: no such folder or file")
    return resolve_image(reference, inspect)
