"""The standalone verifier where an auditor runs it: a fresh virtual environment holding only
`cryptography` (from PyPI or a local wheel folder, PIP_FIND_LINKS), the file copied alone into
an empty folder and run with ``python -I``, so that nothing of huiyan can be imported."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from tests.audit.bundles import build_history, copy_verifier, flipped, rewritten
from tests.support import unavailable

pytestmark = pytest.mark.slow


def fresh_python(folder: Path) -> Path:
    venv.create(folder, with_pip=True, clear=True)
    python = folder / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "cryptography"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if installed.returncode != 0:
        unavailable("a package index or wheel folder for cryptography", Exception(installed.stderr))
    return python


def test_the_verifier_runs_with_only_cryptography_installed(tmp_path):
    history = build_history(tmp_path / "history")
    bundle = history.export("--team", history.team, out="team.zip")
    python = fresh_python(tmp_path / "venv")
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    names = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert names - {"pip", "setuptools", "wheel"} == {"cryptography", "cffi", "pycparser"}
    alone = tmp_path / "alone"
    script = copy_verifier(alone)
    environment = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-I", str(script), *map(str, args)], cwd=alone,
                              env=environment, capture_output=True, text=True)  # fmt: skip

    done = run(bundle, "--keys", history.keys)
    assert done.returncode == 0 and done.stdout.startswith("bundle intact: "), done
    assert run(bundle, "--checkpoint", history.kept).returncode == 0
    imports = subprocess.run([str(python), "-I", "-c", "import eventsourcing"], cwd=alone,
                             env=environment, capture_output=True)  # fmt: skip
    assert imports.returncode != 0  # nothing but the standard library and cryptography
    tampered = rewritten(bundle, tmp_path / "t.zip", "events.jsonl",
                         lambda data: flipped(data, len(data) // 2))  # fmt: skip
    failed = run(tampered, "--keys", history.keys)
    assert failed.returncode == 1 and failed.stdout.startswith("bundle FAILED: events.jsonl")
    assert run(tmp_path / "missing.zip", "--keys", history.keys).returncode == 2
