"""Which scorer computed a score: cheap to import (no metric library), so the workers and the
commands can name it without loading the scoring code."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

# The scoring code's own files: everything of the package but the baseline models, the
# synthetic data generator and the rules documents (those are recorded by their own hashes).
CODE_HASH_KEY = "huiyan_scoring_sha256"
_NOT_SCORING = ("baselines", "synth", "defaults")


@functools.cache
def scoring_code_sha256() -> str:
    """SHA-256 over the scoring package's Python files, each as its relative path and the
    SHA-256 of its bytes, in path order."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in _NOT_SCORING:
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def scorer_version(breakdown: dict[str, Any]) -> str:
    """What a score event records as its scorer: the package version and the code's hash."""
    code = breakdown["scoring_code"]
    return f"{code['huiyan']}+{code.get(CODE_HASH_KEY, 'unhashed')[:16]}"
