"""Time-based one-time codes (RFC 6238) for privileged people's second factor (MLPS level 3).

An administrator, arbitrator or compliance officer enrols a secret once, from an otpauth://
URI shown as a QR code in the terminal, and gives a code at sign-in and at each signing.

``check_code`` is given the time and the last step this person used, so it stays a pure
function of its inputs (tests use fixed times) and refuses a code twice: a code seen over a
shoulder or in a log cannot be replayed within its window. The caller stores the returned
step. One step of drift either way is allowed for clocks that disagree a little.

A code is six ASCII digits. Spaces are removed first, because authenticator apps show the
code as ``123 456`` and people type it so; nothing else is folded (an Arabic-Indic or
full-width digit is refused, not converted), so each accepted input has one reading.
"""

from __future__ import annotations

import hmac
import io
import re
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
# The current step first, then one step either side: a code valid for two steps (one chance
# in a million) is read as the current one.
_STEP_OFFSETS = (0, -1, 1)
ISSUER = "huiyan"
_CODE_SHAPE = re.compile(r"[0-9]{6}")

MALFORMED, WRONG, REUSED = "malformed", "wrong", "reused"
_MESSAGES = {
    MALFORMED: "a one-time code is 6 digits 0-9",
    WRONG: "the one-time code is not the current one",
    REUSED: "this one-time code has already been used; wait for the next one",
}


class TotpRefused(ValueError):
    """A code not accepted; ``reason`` is MALFORMED, WRONG or REUSED (never the code itself)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(_MESSAGES[reason])


def new_secret() -> str:
    """A fresh 160-bit secret in base32, the form authenticator apps take."""
    return pyotp.random_base32()


def enrolment_uri(secret: str, *, account_label: str, issuer: str = ISSUER) -> str:
    """The otpauth://totp/ URI that an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=account_label, issuer_name=issuer
    )


def terminal_qr(uri: str) -> str:
    """The URI as a QR code of Unicode half blocks, printable in a terminal without colours."""
    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def check_code(secret: str, code: str, *, at: datetime, last_step: int | None) -> int:
    """The time step that ``code`` belongs to at time ``at``; raises TotpRefused otherwise.

    A code is accepted for the current step or one step either side, and only for a step
    later than ``last_step`` (the step this person's previous accepted code returned).
    """
    if at.tzinfo is None:
        raise ValueError("check_code needs an aware datetime; a naive one has no fixed instant")
    typed = code.strip().replace(" ", "")
    if not _CODE_SHAPE.fullmatch(typed):
        raise TotpRefused(MALFORMED)
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in (now_step + offset for offset in _STEP_OFFSETS):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            if last_step is not None and step <= last_step:
                raise TotpRefused(REUSED)
            return step
    raise TotpRefused(WRONG)
