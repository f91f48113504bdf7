"""Names that people read (team names, member and organisation names): what a name may
contain, and the key under which two spellings of one name are the same name.

A name is refused when it holds a character that a reader cannot see or that changes how the
text around it is shown: control characters, format characters (zero-width spaces and joiners,
bidi overrides and isolates, the byte-order mark, tag characters), line and paragraph
separators, surrogates, private-use and unassigned code points, and the few letters that render
as blank (the Hangul fillers, the Braille blank). Such a character lets two names look equal
while comparing different, or hides what a name says. A name that is empty once normalised is
no name at all.
"""

from __future__ import annotations

import unicodedata

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Letters and symbols that NFKC keeps and that render as nothing at all.
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")


def hidden_character(text: str) -> str | None:
    """The first character of ``text`` that a name may not hold, described as
    ``U+200B ZERO WIDTH SPACE``; None when every character may be shown."""
    for char in text:
        if unicodedata.category(char) in HIDDEN_CATEGORIES or char in BLANK_LOOKALIKES:
            return describe(char)
    return None


def describe(char: str) -> str:
    """A character as a reader can see it in a message, whatever the character does."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".strip()


def name_key(text: str) -> str:
    """The comparison key of a name: NFKC, case-folded, without white space or format
    characters. "邕江慧影", "邕江 慧影" and "ＬＩＪＩＡＮＧ vision" vs "Lijiang Vision" fold
    to the same key. Empty when the name is blank."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(
        char for char in folded if not char.isspace() and unicodedata.category(char) != "Cf"
    )


def visible(text: str) -> str:
    """``text`` with every hidden character spelt out as ``\\u200b``, so that a hostile value
    cannot reorder or hide the message it is quoted in."""
    return "".join(
        f"\\u{ord(char):04x}"
        if unicodedata.category(char) in HIDDEN_CATEGORIES or char in BLANK_LOOKALIKES
        else char
        for char in text
    )


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message: :func:`visible`, and cut after ``limit`` characters."""
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return f"'{visible(cut)}'"
