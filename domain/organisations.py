"""Organisations as the blacklists name them: a name and, for Chinese entities, the 18-character
unified social credit code (统一社会信用代码, GB 32100-2015).

The check digit is verified because a mistyped code would silently defeat blacklist screening.
Names are compared after NFKC folding (full-width brackets, spaces, case), the differences
that separate two spellings of one registered name in practice.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import OrganisationCodeInvalid

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")  # ASCII only


def check_digit(first17: str) -> str:
    total = sum(
        _ALPHABET.index(char) * weight for char, weight in zip(first17, _WEIGHTS, strict=True)
    )
    return _ALPHABET[(31 - total % 31) % 31]


def normalise_code(code: str | None) -> str | None:
    """The code in canonical form, or None when there is none (e.g. a foreign organisation)."""
    if code is None or not code.strip():
        return None
    canonical = code.strip().upper()
    if not _SHAPE.fullmatch(canonical) or check_digit(canonical[:17]) != canonical[17]:
        raise OrganisationCodeInvalid(code=code)
    return canonical


def name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(char for char in folded if not char.isspace() and char not in "()·.,，。")
