"""Identity documents in canonical form: the text whose keyed hash says "this person" across
all teams of a contest [四: a person may be in one team only].

Two spellings of one document must give one text, or a person joins two teams by writing the
number differently. So before the hash every number is normalised: NFKC (full-width digits and
letters become ASCII), format characters (zero-width spaces, bidi marks, the BOM) and white
space dropped, upper case; a country becomes its ISO 3166-1 alpha-3 code (``SE`` and ``SWE``
are one country). What is left must then have the exact shape of the document: a resident ID
is 17 ASCII digits and a check character that satisfies GB 11643-1999, with a real birth date;
a passport number is 5 to 20 ASCII letters and digits. Anything else is refused, not guessed
at: Arabic-Indic digits or a Cyrillic "А" in a number are refused rather than folded, so no
look-alike gives a second hash.

Every refusal is a ``ValueError`` whose text names the problem, never the number itself.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pycountry

ID_CARD, PASSPORT = "id_card", "passport"
_ID_CARD_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_PASSPORT_SHAPE = re.compile(r"[A-Z0-9]{5,20}", re.ASCII)
# GB 11643-1999 (ISO 7064 MOD 11-2): weights of the first 17 digits, and the check character
# for each remainder of the weighted sum modulo 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Chinese citizens identify by the resident ID [附件2]; a passport would be a second identity.
DOMESTIC_COUNTRY = "CHN"


def folded(text: str) -> str:
    """NFKC, without format characters or white space, upper case."""
    without_format = "".join(char for char in text if unicodedata.category(char) != "Cf")
    normal = unicodedata.normalize("NFKC", without_format)
    return "".join(
        char for char in normal if not char.isspace() and unicodedata.category(char) != "Cf"
    ).upper()


def id_card_check(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of a resident ID."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def id_card_number(raw: str) -> str:
    number = folded(raw)
    if not _ID_CARD_SHAPE.fullmatch(number):
        raise ValueError("a resident ID number has 17 digits 0-9 and a check character 0-9 or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError("digits 7 to 14 of a resident ID number are not a birth date") from None
    if born.year < 1900:
        raise ValueError("digits 7 to 14 of a resident ID number are not a birth date")
    if id_card_check(number[:17]) != number[17]:
        raise ValueError(
            "the check character of the resident ID number does not match its first "
            "17 digits (GB 11643-1999)"
        )
    return number


def country_alpha3(raw: str) -> str:
    """ISO 3166-1 alpha-2 or alpha-3 in, alpha-3 out."""
    code = folded(raw)
    country = None
    if re.fullmatch(r"[A-Z]{2}", code, re.ASCII):
        country = pycountry.countries.get(alpha_2=code)
    elif re.fullmatch(r"[A-Z]{3}", code, re.ASCII):
        country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise ValueError("not an ISO 3166-1 country code (e.g. SE or SWE)")
    return country.alpha_3


def passport_number(raw: str) -> str:
    number = folded(raw)
    if not _PASSPORT_SHAPE.fullmatch(number):
        raise ValueError("a passport number has 5 to 20 letters A-Z and digits 0-9")
    return number


def identity_text(kind: str, number: str, country: str | None = None) -> str:
    """The canonical text that is hashed; its parts are already normalised."""
    if kind == ID_CARD:
        return f"{ID_CARD}:{number}"
    return f"{PASSPORT}:{country}:{number}"
