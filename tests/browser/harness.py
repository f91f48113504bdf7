"""The real-browser tests' harness (docs/web/serving.md): the real application served from a
thread on a free loopback port over a contest built through the CLI (tests/flows.py), and
Debian's Chromium driven by Playwright, in both languages at 1280 and 390 pixels wide.

``shoot(screen, name)`` saves tests/artifacts/<name>-<lang>-<width>.png (git-ignored) and, at
390 px, fails when the page scrolls sideways. Console errors and uncaught page errors are
collected on each screen; a test decides which it expects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from flask import Blueprint, Flask, render_template_string

from tests.web.site import at
from web.access import PUBLIC, admits
from web.context import services

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LANGUAGES = ("zh", "en")
WIDTHS = (1280, 390)
NARROW = 390
# The browser's language preference; the site shows the page in it until the switch is used.
LOCALES = {"zh": "zh-CN", "en": "en-GB"}


@dataclasses.dataclass
class Live:
    """The application served on loopback; ``tick()`` moves its frozen clock on by a minute,
    so that a privileged person's next TOTP code is a new one (a code is taken once)."""

    app: Flask
    url: str
    clock: datetime

    def tick(self) -> str:
        self.clock += timedelta(minutes=1)
        moment = self.clock.isoformat()
        at(self.app, moment)
        return moment

    def move(self, moment: str) -> str:
        """Lets the contest's days pass: the clock jumps to ``moment`` (never back, so that a
        code taken earlier stays earlier)."""
        later = datetime.fromisoformat(moment)
        assert later > self.clock, (moment, self.clock)
        self.clock = later
        at(self.app, moment)
        return moment


@dataclasses.dataclass
class Screen:
    """One browser tab in one language at one width, and what its console said."""

    page: object  # playwright's Page
    lang: str
    width: int
    url: str
    errors: list[str] = dataclasses.field(default_factory=list)

    def go(self, path: str) -> None:
        answer = self.page.goto(self.url + path)  # type: ignore[attr-defined]
        assert answer is not None and answer.status < 400, (path, answer and answer.status)


def shoot(screen: Screen, name: str) -> Path:
    """Saves the whole page; at 390 px the page must not scroll sideways."""
    path = ARTIFACTS / f"{name}-{screen.lang}-{screen.width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    screen.page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    if screen.width == NARROW:
        wide = screen.page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert wide <= NARROW, f"{name} ({screen.lang}) scrolls sideways: {wide} px wide"
    return path


def photograph(screen: Screen, name: str, *, both_languages: bool = True) -> None:
    """The page as it stands, at each width, then (switched with the header's language form,
    which reloads it by GET) in the other language at each width, and switched back. A page
    that answers a POST reads differently when fetched again: pass ``both_languages=False``
    for it (it is shot in its own language at both widths)."""
    page = screen.page
    shown = "zh" if page.get_attribute("html", "lang").startswith("zh") else "en"  # type: ignore[attr-defined]
    other = "en" if shown == "zh" else "zh"
    for lang in (shown, other) if both_languages else (shown,):
        if lang != shown:
            switch_language(screen, lang)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900 if width > NARROW else 844})  # type: ignore[attr-defined]
            shoot(dataclasses.replace(screen, lang=lang, width=width), name)
    if both_languages:
        switch_language(screen, shown)
    page.set_viewport_size({"width": screen.width, "height": 900 if screen.width > NARROW else 844})  # type: ignore[attr-defined]


def switch_language(screen: Screen, lang: str) -> None:
    """The header's switch: it sets the session's language and brings the same page back."""
    page = screen.page
    with page.expect_navigation() as answer:  # type: ignore[attr-defined]
        page.click(f"header button[name=language][value={lang}]")  # type: ignore[attr-defined]
    assert answer.value is not None and answer.value.status < 400, page.url  # type: ignore[attr-defined]
    expected = "zh-CN" if lang == "zh" else "en"
    assert page.get_attribute("html", "lang") == expected, page.url  # type: ignore[attr-defined]


def open_screen(chromium: object, live: Live, lang: str, width: int) -> Iterator[Screen]:
    """A fresh browser context (no cookies) in ``lang`` at ``width``."""
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 900 if width > NARROW else 844},
        locale=LOCALES[lang],
    )
    page = context.new_page()
    screen = Screen(page, lang, width, live.url)
    page.on("console", lambda message: message.type == "error" and screen.errors.append(
        message.text))  # fmt: skip
    page.on("pageerror", lambda error: screen.errors.append(f"uncaught: {error}"))
    try:
        yield screen
    finally:
        context.close()


# A page that shows a team's name twice: as every page does ({{ name }}, escaped), and as a
# page that forgot to escape would (|safe). It lives only in the browser tests' application,
# to prove the content security policy is a second wall behind the escaping.
PROBE = """{% extends "base.html" %}{% block content %}
<p id="escaped">{{ name }}</p><div id="raw">{{ name|safe }}</div>
{% endblock %}"""


def probe_blueprint() -> Blueprint:
    probe = Blueprint("browser_probe", __name__)

    @probe.route("/_probe/team-name/<uuid:team_id>")
    @admits(PUBLIC)
    def team_name(team_id: UUID) -> str:
        return render_template_string(PROBE, name=services().registration.team(team_id).name)

    return probe
