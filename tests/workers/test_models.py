"""Model intake: bundles by content hash whatever their packaging, hostile archives refused
with nothing left behind, images by digest after their configuration is checked."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.workers.test_sandbox_docker import local_image, real_engine
from workers import models
from workers.models import (
    FolderStore,
    ImageUnavailable,
    IntakeLimits,
    IntakeRefused,
    add_bundle,
    resolve_image,
    take_model,
    tree_sha256,
)
from workers.sandbox.images import BASE_IMAGE, LIGHT_RUNNER

SMALL = IntakeLimits(max_bytes=64 * 1024, max_members=8)
IMAGE_ID = "sha256:" + "a" * 64


@pytest.fixture
def bundle(tmp_path) -> Path:
    folder = tmp_path / "bundle"
    (folder / "weights").mkdir(parents=True)
    (folder / "predict.py").write_text("print('hello')\n")
    (folder / "weights" / "model.bin").write_bytes(bytes(range(256)) * 16)
    (folder / "notes.txt").write_text("读我\n")
    return folder


@pytest.fixture
def store(tmp_path) -> FolderStore:
    return FolderStore(tmp_path / "models", SMALL)


def left_behind(store: FolderStore) -> list[str]:
    return sorted(path.name for path in store.root.iterdir()) if store.root.exists() else []


def tar_of(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode="w:gz") -> Path:
    with tarfile.open(path, mode) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def zip_of(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, **facts) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in facts.items():
        setattr(info, key, value)
    return info


PREDICT = (member("predict.py"), b"print(1)\n")


# --- good bundles ----------------------------------------------------------------------------


def test_a_folder_and_its_archives_get_the_same_hash(tmp_path, bundle, store):
    stored = add_bundle(store, bundle)
    assert stored.kind == "bundle" and stored.folder.created and stored.folder.files == 3
    assert stored.folder.path == store.path(stored.ref)
    flat = tmp_path / "flat.tar.gz"
    with tarfile.open(flat, "w:gz") as archive:
        archive.add(bundle, arcname=".")
    wrapped = tmp_path / "wrapped.tar"
    with tarfile.open(wrapped, "w") as archive:
        archive.add(bundle, arcname="my-model")
    zipped = tmp_path / "model.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bundle.rglob("*")):
            archive.write(path, path.relative_to(bundle).as_posix())
    for source in (flat, wrapped, zipped):
        again = add_bundle(store, source)
        assert again.ref == stored.ref and not again.folder.created, source.name
    assert left_behind(store) == [stored.ref]  # one folder, named by content, no staging
    kept = stored.folder.path / "weights" / "model.bin"
    assert kept.read_bytes() == (bundle / "weights" / "model.bin").read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o444
    assert stat.S_IMODE(stored.folder.path.stat().st_mode) == 0o555


def test_the_hash_is_what_sha256sum_gives(bundle, store):
    pipeline = (
        "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    )
    by_shell = subprocess.run(
        pipeline, shell=True, cwd=bundle, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert add_bundle(store, bundle).ref == by_shell
    assert tree_sha256({"b": "1" * 64, "a": "2" * 64}) != tree_sha256(
        {"a": "1" * 64, "b": "2" * 64}
    )


def test_a_changed_byte_changes_the_hash(bundle, store):
    first = add_bundle(store, bundle).ref
    (bundle / "notes.txt").write_text("读我!\n")
    assert add_bundle(store, bundle).ref != first


# --- hostile uploads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "members, reason",
    [
        ([PREDICT, (member("../evil.py"), b"x")], "outside the bundle"),
        ([PREDICT, (member("weights/../../evil.py"), b"x")], "outside the bundle"),
        ([PREDICT, (member("/etc/cron.d/evil"), b"x")], "absolute path"),
        ([PREDICT, (member("link", tarfile.SYMTYPE, linkname="/etc/passwd"), None)], "link"),
        ([PREDICT, (member("inside", tarfile.SYMTYPE, linkname="predict.py"), None)], "link"),
        ([PREDICT, (member("hard", tarfile.LNKTYPE, linkname="predict.py"), None)], "link"),
        ([PREDICT, (member("tty", tarfile.CHRTYPE, devmajor=5, devminor=0), None)], "device"),
        ([PREDICT, (member("pipe", tarfile.FIFOTYPE), None)], "fifo"),
        ([PREDICT, (member("bomb.bin"), bytes(1 << 20))], "past the cap"),
        ([PREDICT, *[(member(f"f{n}"), b"x") for n in range(9)]], "more than 8 members"),
        ([(member("model.py"), b"x")], "no predict.py"),
        ([PREDICT, PREDICT], "appears twice"),
    ],
)
def test_a_hostile_tar_is_refused_and_leaves_nothing(tmp_path, store, members, reason):
    archive = tar_of(tmp_path / "upload.tar.gz", members)
    with pytest.raises(IntakeRefused, match=reason):
        add_bundle(store, archive)
    assert left_behind(store) == []
    assert not (tmp_path / "evil.py").exists()


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "members, reason",
    [
        ([("predict.py", b"x"), ("../evil.py", b"x")], "outside the bundle"),
        ([("predict.py", b"x"), ("/abs/evil.py", b"x")], "absolute path"),
        ([("predict.py", b"x"), ("C:/evil.py", b"x")], "absolute path"),
        ([("predict.py", b"x"), ("dir\\..\\..\\evil.py", b"x")], "backslash"),
        ([("predict.py", b"x"), (_link("escape"), b"/etc/passwd")], "link"),
        ([("predict.py", b"x"), ("bomb.bin", bytes(1 << 24))], "past the cap"),
        ([("predict.py", b"x"), *[(f"f{n}", b"x") for n in range(9)]], "more than 8"),
        ([("src/model.py", b"x")], "no predict.py"),
    ],
)
def test_a_hostile_zip_is_refused_and_leaves_nothing(tmp_path, store, members, reason):
    archive = zip_of(tmp_path / "upload.zip", members)
    with pytest.raises(IntakeRefused, match=reason):
        add_bundle(store, archive)
    assert left_behind(store) == []


def test_the_cap_holds_while_streaming_not_after(tmp_path, store):
    """A member that announces nothing and never ends: the writer stops at the cap."""

    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            Endless.served += len(buffer)
            assert Endless.served < 2 * SMALL.max_bytes, "read far past the cap"
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    unpacked = models._Unpacked(tmp_path, SMALL)
    endless = models._Member("stream.bin", False, 0, lambda: io.BufferedReader(Endless()))
    with pytest.raises(IntakeRefused, match="past the cap"):
        unpacked.take(endless)
    assert unpacked.written <= SMALL.max_bytes


def test_a_folder_with_a_link_or_a_fifo_is_refused(tmp_path, bundle, store):
    (bundle / "shadow").symlink_to("/etc/shadow")
    with pytest.raises(IntakeRefused, match="symbolic link"):
        add_bundle(store, bundle)
    (bundle / "shadow").unlink()
    os.mkfifo(bundle / "pipe")
    with pytest.raises(IntakeRefused, match="not a regular file"):
        add_bundle(store, bundle)
    assert left_behind(store) == []


def test_something_that_is_no_archive(tmp_path, store):
    junk = tmp_path / "model.tar.gz"
    junk.write_bytes(b"not an archive at all" * 100)
    with pytest.raises(IntakeRefused, match="not a folder or a readable tar or zip"):
        add_bundle(store, junk)
    assert left_behind(store) == []


def test_the_stored_name_comes_from_the_content_not_the_upload(tmp_path, bundle, store):
    sneaky = tmp_path / "..%2F..%2Fetc"
    sneaky.mkdir()
    (sneaky / "predict.py").write_text("x")
    stored = add_bundle(store, sneaky)
    assert stored.folder.path.parent == store.root and stored.folder.path.name == stored.ref


# --- images ------------------------------------------------------------------------------------


def engine_answer(**config) -> dict:
    return {"Id": IMAGE_ID, "RepoDigests": ["team/model@sha256:" + "b" * 64], "Config": config}


def test_an_image_is_recorded_by_its_id(store):
    stored = resolve_image("team/model:v1", lambda ref: engine_answer(User="1000"))
    assert (stored.kind, stored.ref) == ("image", IMAGE_ID)
    pinned = resolve_image("team/model@sha256:" + "b" * 64, lambda ref: engine_answer(User="app"))
    assert pinned.ref == IMAGE_ID


@pytest.mark.parametrize(
    "config, reason",
    [
        ({}, "root"),
        ({"User": "root"}, "root"),
        ({"User": "0:0"}, "root"),
        ({"User": "1000", "Env": ["LD_PRELOAD=/x.so"]}, "LD_PRELOAD"),
        ({"User": "1000", "Env": ["NVIDIA_VISIBLE_DEVICES=all"]}, "NVIDIA_VISIBLE_DEVICES"),
    ],
)
def test_an_unsafe_image_is_refused(config, reason):
    with pytest.raises(IntakeRefused, match=reason):
        resolve_image("team/model:v1", lambda ref: engine_answer(**config))


def test_a_tag_that_cannot_be_resolved_is_never_recorded(store):
    def absent(reference):
        raise ImageUnavailable("no such image")

    with pytest.raises(IntakeRefused, match="never by tag"):
        resolve_image("team/model:latest", absent)
    with pytest.raises(IntakeRefused, match="never by tag"):
        take_model("team/model:latest", store, absent)
    with pytest.raises(IntakeRefused, match="no sha256 id"):
        resolve_image("team/model:latest", lambda ref: {"Id": "team/model:latest", "Config": {}})


def test_a_pinned_digest_must_be_the_images(store):
    other = "team/model@sha256:" + "c" * 64
    with pytest.raises(IntakeRefused, match="does not have the digest"):
        resolve_image(other, lambda ref: engine_answer(User="1000"))


def test_a_path_is_a_bundle_and_a_missing_path_is_not_an_image(tmp_path, bundle, store):
    def no_engine(reference):
        raise AssertionError("a path must not reach the engine")

    assert take_model(str(bundle), store, no_engine).kind == "bundle"
    with pytest.raises(IntakeRefused, match="no such folder or file"):
        take_model(str(tmp_path / "missing.tar.gz"), store, no_engine)


# --- images, against a real engine (deploy/docker-engine.sh; skipped without one, failed under CI)


@pytest.fixture(scope="module")
def engine():
    return real_engine()


def test_a_real_engine_resolves_a_local_image_to_its_id(engine):
    runner = local_image(engine, LIGHT_RUNNER)  # USER 65534:65534
    stored = resolve_image(LIGHT_RUNNER, models.docker_inspect)
    assert (stored.kind, stored.ref) == ("image", runner.reference)
    assert resolve_image(runner.reference, models.docker_inspect).ref == runner.reference


def test_a_real_engine_s_root_image_is_refused_and_an_unknown_tag_never_recorded(engine):
    local_image(engine, BASE_IMAGE)  # made by mmdebstrap: no USER, so root
    with pytest.raises(IntakeRefused, match="refused: image user is root"):
        resolve_image(BASE_IMAGE, models.docker_inspect)
    absent = f"huiyan/absent:{os.getpid()}"  # not here, and no registry gives it
    with pytest.raises(IntakeRefused, match="never by tag"):
        resolve_image(absent, models.docker_inspect)
