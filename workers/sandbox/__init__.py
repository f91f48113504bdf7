"""Sandboxes that run untrusted model submissions: ``process`` (bubblewrap) and ``docker``.

See docs/sandbox.md for what each backend contains and how it was tested.
"""

from workers.sandbox.contract import (
    CollectedFile,
    ImageRef,
    Limits,
    Outcome,
    RunResult,
    Sandbox,
    SandboxError,
)

__all__ = [
    "CollectedFile",
    "ImageRef",
    "Limits",
    "Outcome",
    "RunResult",
    "Sandbox",
    "SandboxError",
]
