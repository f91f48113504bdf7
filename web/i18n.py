"""Chinese and English (Flask-Babel): every string of the application is written in English and
translated in ``web/translations/<part>/zh/LC_MESSAGES/messages.po``, one catalogue per part
of the site so that the parts can be written side by side; Flask-Babel merges them.

The language of a page: the one the person chose with the switch (kept in their session), else
their team's locked language, else the browser's preference between the two, else Chinese.
The catalogues are compiled at start-up into the instance's cache folder (the .po files are the
source; nothing compiled is committed).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel
from flask_login import current_user

from domain.errors import DomainError
from ledger.files import write_atomically
from ledger.settings import Settings

LANGUAGES = ("zh", "en")
SOURCE = Path(__file__).parent / "translations"


def init(app: Flask, settings: Settings) -> None:
    compiled = compile_catalogues(settings.home / "cache" / "translations")
    Babel(
        app,
        locale_selector=language,
        timezone_selector=lambda: "Asia/Shanghai",
        default_translation_directories=";".join(str(path) for path in compiled),
    )
    app.jinja_env.globals["current_language"] = language
    app.jinja_env.globals["page_to_return_to"] = page_to_return_to


def compile_catalogues(cache: Path) -> list[Path]:
    """Each part's .po compiled to .mo under ``cache/<part>``; the folders to hand to Babel."""
    folders = []
    for source in sorted(SOURCE.glob("*/*/LC_MESSAGES/messages.po")):
        part, language = source.parts[-4], source.parts[-3]
        target = cache / part / language / "LC_MESSAGES" / "messages.mo"
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as stream:
                catalogue = read_po(stream, locale=language)
            write_atomically(target, _mo_bytes(catalogue), mode=0o644)
        if cache / part not in folders:
            folders.append(cache / part)
    return folders


def _mo_bytes(catalogue: object) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    write_mo(buffer, catalogue)  # type: ignore[arg-type]
    return buffer.getvalue()


def language() -> str:
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    team_language = _team_language()
    if team_language in LANGUAGES:
        return team_language
    return request.accept_languages.best_match(LANGUAGES) or "zh"


def _team_language() -> str | None:
    if not getattr(current_user, "is_authenticated", False) or current_user.team_id is None:
        return None
    from web.context import services

    try:
        return services().registration.team(current_user.team_id).language
    except DomainError:  # a team not found is simply no preference
        return None


def page_to_return_to() -> str:
    """Where the language switch brings the person back: this page, or, when this page
    answers a form (a POST-only address), the page the form was on."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    came_from = urlsplit(request.referrer or "")
    if came_from.netloc != request.host or not came_from.path.startswith("/"):
        return "/"
    return came_from.path + (f"?{came_from.query}" if came_from.query else "")
