"""The web application over a contest built through the CLI (tests/flows.py), and a visitor
that uses it as a browser would: cookies kept, every form posted with the CSRF token its page
carries.

The application's clock is the contest's frozen clock (HUIYAN_CLOCK); :func:`at` moves it, so
one application serves the registration, the round, the judging and the appeals in turn.
"""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from ledger.settings import Settings
from tests.flows import Huiyan, Person
from web import create_app

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def site(huiyan: Huiyan, clock: str, **config: Any) -> Flask:
    """The application on the harness's instance, at ``clock``. Rate limits are off unless
    asked for: tests sign in far more often than a person does (tests/web/test_security.py
    checks the limit itself)."""
    settings = Settings.from_env({**huiyan.env, "HUIYAN_CLOCK": clock})
    return create_app(settings, config={"TESTING": True, "RATELIMIT_ENABLED": False, **config})


def at(app: Flask, clock: str) -> None:
    """Moves the application's frozen clock (a test's way of letting days pass)."""
    services = app.extensions["huiyan"]
    services.settings = dataclasses.replace(
        services.settings, clock=Settings.from_env({"HUIYAN_CLOCK": clock}).clock
    )


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page carries no form with a CSRF token"
    return unescape(found.group(1))


class Visitor:
    """One browser: its own cookies, signed in as at most one person."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        """A POST without a form's token (what a forged request looks like)."""
        return self.client.post(path, data=data or {}, **kwargs)

    def submit(
        self, page: str, data: dict[str, Any], *, action: str | None = None, **kwargs: Any
    ) -> TestResponse:
        """Opens ``page``, then posts ``data`` to ``action`` (default: the page itself) with
        the CSRF token the page gave, as the page's own form would."""
        shown = self.client.get(page)
        assert shown.status_code == 200, (page, shown.status_code)
        token = csrf_token(shown.get_data(as_text=True))
        return self.client.post(action or page, data={**data, "csrf_token": token}, **kwargs)

    def sign_in(self, person: Person, clock: str) -> TestResponse:
        answer = self.submit(
            "/sign-in",
            {"login": person.login, "password": person.password, "code": person.code(clock) or ""},
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return answer

    def text(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer.get_data(as_text=True)
