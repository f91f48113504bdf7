"""Checks on a submitted image's own configuration (``docker image inspect`` → ``Config``).

The run overrides what it can (user, GPU variables), but an image that asks for root, preloads
a library into every process, or chooses its own GPUs is refused at submission: it says what
its authors meant it to do, and the NVIDIA container hooks have been escaped through exactly
such variables (CVE-2024-0132, CVE-2025-23266).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The images deploy/sandbox-images.sh builds from Debian's archive (no registry needed):
#: the base (root: refused as a model image), a runner of bundle folders with only python3 and
#: numpy, and the runner with the worker's own stack (torch, MONAI, SimpleITK), the default.
BASE_IMAGE = "huiyan/base:bookworm"
LIGHT_RUNNER = "huiyan/runner:light"
STACK_RUNNER = "huiyan/runner:stack"


class UnsafeImage(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def image_problems(config: Mapping[str, Any]) -> list[str]:
    """Every reason to refuse the image, in a stable order; empty when it is acceptable."""
    problems = []
    user = (config.get("User") or "").strip()
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        shown = repr(user) if user else "no USER (runs as root)"
        problems.append(f"image user is root: {shown}; set a non-root USER")
    for entry in config.get("Env") or []:
        variable = entry.split("=", 1)[0]
        if variable == "LD_PRELOAD":
            problems.append("image environment sets LD_PRELOAD")
        elif variable.startswith("NVIDIA_"):
            problems.append(f"image environment sets {variable}; the platform assigns GPUs")
    return problems


def refuse_unsafe_image(config: Mapping[str, Any]) -> None:
    if problems := image_problems(config):
        raise UnsafeImage(problems)
