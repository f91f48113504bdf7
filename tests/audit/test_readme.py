"""The README's "Using it" block runs as written, in order, after `make demo` (issue 10).

The slow test plays `make demo`'s own command line (read from the Makefile; its prerequisites
only install what is already here) in a fresh folder that mirrors the repository, then runs
the block, every line, in one `bash -euo pipefail`: a line that fails (an option renamed in
the code and not in the README, a file the demo no longer leaves) fails the test and names
the line. Nothing of the block is rewritten first.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pyotp
import pytest

from tests.support import IN_CI

ROOT = Path(__file__).resolve().parents[2]
# Settings of the host's abilities, not of an instance: a newcomer's shell may need them too.
HOST_SETTINGS = {"HUIYAN_SANDBOX_UNISOLATED"}


def using_it_block() -> str:
    """The first ```sh block of the README's "Using it" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert found, "the README's 'Using it' section has no ```sh block"
    return found.group(1)


def demo_command() -> str:
    """The recipe of the Makefile's `demo` target, as `make demo SERVE=no` would hand it to
    the shell (a script's form: the demo stops after its verdict instead of serving)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    target = next(number for number, line in enumerate(lines) if line.startswith("demo:"))
    recipe = lines[target + 1]
    assert recipe.startswith("\t") and not recipe.endswith("\\"), recipe
    assert "$(DEMO_SERVE)" in recipe, recipe
    return (
        recipe.strip()
        .replace("$$", "$")
        .replace("$(VENV)", ".venv")
        .replace("$(DEMO_SERVE)", "--no-serve")
    )


def newcomer_environment() -> dict[str, str]:
    """The caller's environment without any instance setting (HUIYAN_HOME, HUIYAN_CLOCK,
    HUIYAN_SESSION, a database URL...): the block sets what it needs itself."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HUIYAN_") or name in HOST_SETTINGS
    }


def mirror_of_the_repository(folder: Path) -> Path:
    """A folder whose entries link to the repository's (its instance/ left out), so that the
    demo and the block write only here."""
    folder.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"instance", ".git"}:
            (folder / entry.name).symlink_to(entry)
    return folder


def run_bash(script: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=newcomer_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_block_works_in_the_folder_make_demo_fills():
    """The block's HUIYAN_HOME is where `make demo` writes when none is set."""
    default = re.search(r"\$\{HUIYAN_HOME:-([^}]+)\}", demo_command())
    exported = re.search(r"^export HUIYAN_HOME=(\S+)", using_it_block(), re.MULTILINE)
    assert default and exported
    assert exported.group(1) == default.group(1)


def test_demo_code_is_the_code_of_the_demo_organisers_phone(tmp_path):
    secret = pyotp.random_base32()
    (tmp_path / "demo-credentials.txt").write_text(f"login: organiser\ntotp: {secret}\n")
    env = {**newcomer_environment(), "HUIYAN_HOME": str(tmp_path)}
    env["HUIYAN_CLOCK"] = "2026-06-20T10:00:00+08:00"
    code = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "huiyan"), "demo", "code"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert code == pyotp.TOTP(secret).at(1781920800)  # 2026-06-20T02:00:00Z
    refused = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "huiyan"), "demo", "code"],
        env={**env, "HUIYAN_ENV": "production", "HUIYAN_CLOCK": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "production" in refused.stderr and not refused.stdout


@pytest.mark.slow
def test_every_line_of_the_readme_block_runs_after_make_demo(tmp_path):
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        message = "the README's block needs .venv (make demo makes it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = mirror_of_the_repository(tmp_path / "huiyan")
    demo = run_bash(demo_command(), folder, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert demo.stdout.splitlines()[-1].split() == ["verify", "intact"], demo.stdout

    failed = """trap 'echo "README line failed (exit $?): $BASH_COMMAND" >&2' ERR\n"""
    block = run_bash(failed + using_it_block(), folder, timeout=900)
    assert block.returncode == 0, f"{block.stderr[-4000:]}\n--- stdout ---\n{block.stdout[-3000:]}"
    # The auditor's verdict, with the checkpoint the block kept among those checked.
    verdict = re.search(
        r"^intact: (\d+) entries, root [0-9a-f]{64}, checkpoints checked at sizes \[(.*)\]$",
        block.stdout,
        re.MULTILINE,
    )
    assert verdict, block.stdout[-3000:]
    assert verdict.group(1) in verdict.group(2).split(", ")
