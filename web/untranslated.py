"""Which strings of the web application have no Chinese translation yet.

``python -m web.untranslated`` lists them as .po entries ready to paste into a part's catalogue;
tests/web/test_i18n.py fails while any is left. Strings are found the way Babel extracts them:
``_``/``gettext``/``ngettext`` and ``_l``/``lazy_gettext`` in Python, ``_()`` in templates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def source_strings() -> dict[str, str]:
    """Every translatable string of the application, with where it first appears."""
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {}}
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"web/{filename}:{line}")
    return found


def translated(language: str = "zh") -> dict[str, str]:
    """Every translation of every part's catalogue for ``language``."""
    merged: dict[str, str] = {}
    for path in sorted(ROOT.glob(f"translations/*/{language}/LC_MESSAGES/messages.po")):
        with path.open("rb") as stream:
            for message in read_po(stream, locale=language):
                if message.id and message.string:
                    text = message.string
                    merged[message.id if isinstance(message.id, str) else message.id[0]] = (
                        text if isinstance(text, str) else text[0]
                    )
    return merged


def missing(language: str = "zh") -> dict[str, str]:
    done = translated(language)
    return {text: where for text, where in source_strings().items() if text not in done}


def main() -> int:
    left = missing()
    for text, where in sorted(left.items(), key=lambda item: item[1]):
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        print(f'#: {where}\nmsgid "{quoted}"\nmsgstr ""\n')
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
