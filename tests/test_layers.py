"""The layers of docs/architecture.md, checked on the imports themselves: the domain and the
scoring package import nothing of ours, the ledger knows nothing of the contest, the audit tools
and the services import neither face, the two faces do not import each other, and nothing
imports the demo. A new import across a wall fails here with the file and the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"domain", "ledger", "scoring", "workers", "audit", "services", "cli", "web", "demo"}

# package -> the packages of ours it may import (itself always)
ALLOWED = {
    "domain": set(),
    "scoring": set(),
    "ledger": set(),
    "workers": {"domain", "ledger", "scoring", "services"},
    "audit": {"domain", "ledger", "scoring", "services", "workers"},
    "services": {"audit", "domain", "ledger", "scoring", "workers"},
    "web": {"audit", "domain", "ledger", "scoring", "services", "workers"},
    "cli": {"audit", "domain", "ledger", "scoring", "services", "workers"},
    "demo": OURS,
}
# Known crossings, each for a reason (docs/architecture.md): the ledger's verify command asks
# audit/ about personal signatures and the access log's stream, and keeps a run with --record
# in the record of verifications (services/verification.py); `huiyan serve` starts the web.
EXCEPTIONS = {
    ("ledger/cli.py", "audit"),
    ("ledger/cli.py", "services"),
    ("cli/serve.py", "web"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, name) for line, name in found if name in OURS]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_its_layer_allows(package: str) -> None:
    crossings = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for line, name in _imports(path):
            if name == package or name in ALLOWED[package] or (relative, name) in EXCEPTIONS:
                continue
            crossings.append(f"{relative}:{line} imports {name}")
    assert crossings == []


def test_only_the_root_command_imports_the_demo() -> None:
    importers = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for package in sorted(OURS - {"demo"})
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in _imports(path)
        if name == "demo"
    ]
    assert importers == []
