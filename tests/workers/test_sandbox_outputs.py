"""Output collection (shared by both backends) and the small pure pieces of the contract."""

from __future__ import annotations

import hashlib
import os
import socket

import pytest

from workers.sandbox.bwrap import Layout, bwrap_command
from workers.sandbox.capped_log import CappedLog
from workers.sandbox.contract import ImageRef, Limits, MiB, SandboxError, judge
from workers.sandbox.outputs import collect_outputs, prepare_output_dir

CAPS = {"max_bytes": 1000, "max_files": 3}


def test_regular_files_are_collected_with_their_hashes(tmp_path):
    (tmp_path / "c001").mkdir()
    (tmp_path / "c001" / "mask.bin").write_bytes(b"\x01" * 300)
    (tmp_path / "predictions.json").write_text("{}")

    files, violation = collect_outputs(tmp_path, **CAPS)

    assert violation is None
    assert [(f.path, f.size) for f in files] == [("c001/mask.bin", 300), ("predictions.json", 2)]
    assert files[0].sha256 == hashlib.sha256(b"\x01" * 300).hexdigest()


@pytest.mark.parametrize("target", ["/etc/passwd", "../outside", "inside.json"])
def test_any_symlink_is_a_violation(tmp_path, target):
    (tmp_path / "inside.json").write_text("{}")
    os.symlink(target, tmp_path / "predictions.json")

    files, violation = collect_outputs(tmp_path, **CAPS)

    assert files == ()
    assert violation == f"predictions.json: symbolic link to {target!r}"


def test_symlinked_folder_is_not_followed(tmp_path):
    os.symlink("/etc", tmp_path / "c001")

    files, violation = collect_outputs(tmp_path, **CAPS)

    assert files == ()
    assert violation.startswith("c001: symbolic link")


def test_hard_link_is_a_violation(tmp_path):
    outside = tmp_path / "host-file"
    outside.write_text("secret")
    (tmp_path / "out").mkdir()
    os.link(outside, tmp_path / "out" / "predictions.json")

    files, violation = collect_outputs(tmp_path / "out", **CAPS)

    assert files == ()
    assert violation == "predictions.json: hard link (2 names for one file)"


def test_fifo_is_refused_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "predictions.json")

    files, violation = collect_outputs(tmp_path, **CAPS)

    assert violation == "predictions.json: not a regular file (fifo)"


def test_socket_is_refused(tmp_path):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s"))

        _, violation = collect_outputs(tmp_path, **CAPS)

    assert violation == "s: not a regular file (socket)"


def test_total_output_size_is_capped(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 600)
    (tmp_path / "b").write_bytes(b"x" * 600)

    files, violation = collect_outputs(tmp_path, **CAPS)

    assert files == ()
    assert violation.startswith("outputs exceed 1000 bytes")


def test_output_file_count_is_capped(tmp_path):
    for name in "abcd":
        (tmp_path / name).write_text("")

    _, violation = collect_outputs(tmp_path, **CAPS)

    assert violation == "more than 3 output files"


def test_output_folder_must_be_an_empty_directory(tmp_path):
    with pytest.raises(SandboxError, match="must be an existing directory"):
        prepare_output_dir(tmp_path / "missing", 65534, 65534)
    os.symlink(tmp_path, tmp_path / "link")
    with pytest.raises(SandboxError, match="must be an existing directory"):
        prepare_output_dir(tmp_path / "link", 65534, 65534)
    (tmp_path / "stale").write_text("")
    with pytest.raises(SandboxError, match="must be empty"):
        prepare_output_dir(tmp_path, 65534, 65534)


@pytest.mark.parametrize(
    ("exit_code", "flags", "outcome"),
    [
        (0, {}, "completed"),
        (1, {}, "crashed"),
        (-9, {"timed_out": True}, "timeout"),
        (152, {}, "timeout"),  # 128 + SIGXCPU, as bubblewrap reports it
        (-24, {}, "timeout"),  # SIGXCPU, as Popen reports it
        (137, {"out_of_memory": True}, "out_of_memory"),
        (0, {"violation": "x: symbolic link"}, "sandbox_violation"),
        (-9, {"timed_out": True, "violation": "x"}, "sandbox_violation"),
    ],
)
def test_one_outcome_per_run(exit_code, flags, outcome):
    arguments = {"timed_out": False, "out_of_memory": False, "violation": None, **flags}

    assert judge(exit_code, **arguments) == outcome


def test_limits_and_image_references_refuse_nonsense():
    with pytest.raises(ValueError, match="Limits.memory_bytes must be positive"):
        Limits(memory_bytes=0)
    with pytest.raises(ValueError, match="Limits.gpu must be a device index"):
        Limits(gpu="all")
    with pytest.raises(ValueError, match="must be pinned by digest"):
        ImageRef("registry.local/team42/model:latest")
    assert Limits(gpu="GPU-8f3c2a1e-0b1d-4c2e-9a7f-0e1d2c3b4a59").gpu.startswith("GPU-")


def test_capped_log_keeps_the_head_and_counts_the_rest():
    log = CappedLog(5)
    for chunk in (b"abc", b"defg", b"hij"):
        log.feed(chunk)

    assert log.value() == b"abcde"
    assert log.truncated and log.seen == 10


def test_bwrap_command_sizes_each_tmpfs_and_keeps_the_worker_environment_out(tmp_path):
    layout = Layout(
        bundle=tmp_path,
        input_dir=tmp_path,
        output_dir=tmp_path,
        python=tmp_path / "python",
        python_roots=(),
        tmp_bytes=16 * MiB,
        shm_bytes=8 * MiB,
        uid=4242,
        gid=4242,
        environment={"HUIYAN_INPUT": "/input"},
    )

    argv = bwrap_command(layout, bwrap="/usr/bin/bwrap", setpriv="/usr/bin/setpriv")

    tmpfs = [i for i, a in enumerate(argv) if a == "--tmpfs"]
    assert [argv[i + 1] for i in tmpfs] == ["/dev/shm", "/tmp"]
    assert [argv[i - 2 : i] for i in tmpfs] == [["--size", str(8 * MiB)], ["--size", str(16 * MiB)]]
    assert "--clearenv" in argv and argv.count("--setenv") == 1
    model_stage = argv[argv.index("/usr/bin/setpriv") :]
    assert "--reuid=4242" in model_stage
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"):
        assert flag in model_stage
    assert argv[-2:] == [str(tmp_path / "python"), "predict.py"]
