"""The bubblewrap command line of one run, as a pure function of what the run needs.

The model gets a new root holding only: the system's /usr (and the /bin, /lib symlinks), the
few /etc files the dynamic linker reads, the Python installation it runs with, the bundle at
/bundle, the input at /input (read-only), the output at /output, sized tmpfs at /tmp and
/dev/shm, a private /proc and a read-only private /dev. Everything else of the host is absent
and the root is read-only. The model runs with no capabilities, in its own user, pid, network,
ipc, uts and cgroup namespaces, as an unprivileged uid, unable to create user namespaces.

A worker that runs as root cannot simply drop to that uid and start bubblewrap: the sources of
the binds (a Python under /root, an input folder under a private tmp) need not be reachable by
the uid. So it runs in two stages. Stage one (root, no user namespace) assembles the view of
the host in a private mount namespace; ``setpriv`` then drops to the model's uid; stage two is
an ordinary unprivileged bubblewrap over that view, which adds every namespace and the private
/proc, /dev and /tmp. Stage one also binds the host /proc so that stage two can write its uid
map and mount its own /proc; stage two's pivot detaches it before the model starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from workers.sandbox.contract import BUNDLE_ENTRY, MODEL_BUNDLE, MODEL_INPUT, MODEL_OUTPUT

_SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf")
_GPU_SHARED = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools")


@dataclass(frozen=True)
class Layout:
    bundle: Path
    input_dir: Path
    output_dir: Path
    python: Path  # the interpreter that runs predict.py, visible at the same path inside
    python_roots: tuple[Path, ...]  # folders it needs besides /usr (a venv, its base Python)
    tmp_bytes: int
    shm_bytes: int
    uid: int
    gid: int
    environment: Mapping[str, str]
    gpu_node: str | None = None  # the /dev/nvidiaN of the one GPU the model may use
    info_fd: int | None = None  # bubblewrap writes to it once the sandbox is set up
    extra_inputs: tuple[tuple[Path, str], ...] = ()  # (host path, path inside), read-only


def bwrap_command(layout: Layout, *, bwrap: str, setpriv: str | None) -> list[str]:
    """The full argv. ``setpriv`` is given when the worker is root (two stages), else None."""
    model = _model_stage(layout)
    if setpriv is None:
        return [bwrap, *_host_view(layout), *model]
    host_stage = [
        *_host_view(layout),
        *("--bind", "/proc", "/proc", "--dev", "/dev", *_gpu_devices(layout)),
        *("--dir", "/tmp", "--remount-ro", "/", "--die-with-parent"),
        *("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"),
    ]
    drop = [
        setpriv,
        f"--reuid={layout.uid}",
        f"--regid={layout.gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ]
    view = ["--ro-bind", "/", "/", "--bind", MODEL_OUTPUT, MODEL_OUTPUT]
    return [bwrap, *host_stage, "--", *drop, "--", bwrap, *view, *model]


def _model_stage(layout: Layout) -> list[str]:
    isolation = [
        *("--unshare-all", "--unshare-user", "--disable-userns"),
        *("--die-with-parent", "--new-session", "--cap-drop", "ALL"),
        *("--uid", str(layout.uid), "--gid", str(layout.gid), "--hostname", "sandbox"),
    ]
    # The model's /tmp is a fresh tmpfs; a Python environment that lives under the host's
    # /tmp (a CI checkout, say) would vanish beneath it, so it is bound again on top.
    under_tmp = [root for root in _outside_usr(layout.python_roots) if root.is_relative_to("/tmp")]
    python_again = [arg for root in under_tmp for arg in ("--ro-bind", str(root), str(root))]
    private = [
        *("--proc", "/proc", "--dev", "/dev", *_gpu_devices(layout)),
        *("--size", str(layout.shm_bytes), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"),
        *("--size", str(layout.tmp_bytes), "--tmpfs", "/tmp", *python_again),
        "--remount-ro",
        "/",
    ]
    environment = ["--clearenv"]
    for name, value in layout.environment.items():
        environment += ["--setenv", name, value]
    started = [] if layout.info_fd is None else ["--info-fd", str(layout.info_fd)]
    command = ["--chdir", MODEL_BUNDLE, "--", str(layout.python), BUNDLE_ENTRY]
    return [*isolation, *private, *environment, *started, *command]


def _host_view(layout: Layout) -> list[str]:
    view = _Binds()
    for name in _SYSTEM:
        path = Path("/", name)
        if path.is_symlink():
            view.args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            view.bind("--ro-bind", path, path)
    for name in _ETC:
        if (path := Path("/etc", name)).exists():
            view.bind("--ro-bind", path, path)
    for root in _outside_usr(layout.python_roots):
        view.bind("--ro-bind", root, root)
    view.bind("--ro-bind", layout.bundle, Path(MODEL_BUNDLE))
    view.bind("--ro-bind", layout.input_dir, Path(MODEL_INPUT))
    for source, inside in layout.extra_inputs:
        view.bind("--ro-bind", source, Path(inside))
    view.bind("--bind", layout.output_dir, Path(MODEL_OUTPUT))
    return view.args


class _Binds:
    """bubblewrap creates missing parents of a mount point with mode 0700 when it runs as
    root, which would hide /etc or a venv from the model's uid: create them 0755 first."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self._made: set[PurePosixPath] = set()

    def bind(self, option: str, source: Path, destination: Path) -> None:
        for parent in reversed(PurePosixPath(destination).parents[:-1]):
            if parent not in self._made:
                self._made.add(parent)
                self.args += ["--perms", "0755", "--dir", str(parent)]
        self.args += [option, str(source), str(destination)]


def _outside_usr(roots: Sequence[Path]) -> list[Path]:
    unique = sorted({Path(os.path.realpath(r)) for r in roots})
    return [r for r in unique if not r.is_relative_to("/usr")]


def _gpu_devices(layout: Layout) -> list[str]:
    if layout.gpu_node is None:
        return []
    nodes = [*_GPU_SHARED, layout.gpu_node]
    return [arg for node in nodes if os.path.exists(node) for arg in ("--dev-bind", node, node)]
