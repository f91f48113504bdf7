"""The web application (docs/web.md): one Flask app, a blueprint per role, Jinja templates,
Chinese and English.

Pages call the same services as the CLI (services/), so a decision made in the browser is
checked, signed and logged exactly as one made on the console. Every route declares the roles
it admits (web/access.py); a route that declares none is refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from ledger.settings import Settings
from web import access, auth, errors, i18n, metrics, security
from web.context import Services, web_secret

# Every blueprint, each in its own module as ``blueprint``: the role it serves is its name.
BLUEPRINTS = (
    "web.public",
    "web.notices",
    "web.auth",
    "web.messages",
    "web.team",
    "web.expert",
    "web.arbitrator",
    "web.compliance",
    "web.organiser",
    "web.health",
    "web.metrics",
)


def create_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """The application for one ledger; ``config`` overrides Flask settings (tests)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=web_secret(settings),
        MAX_CONTENT_LENGTH=settings.upload_bytes,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        SESSION_COOKIE_NAME="huiyan",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=settings.session_minutes * 60,
        HUIYAN_SETTINGS=settings,
    )
    app.config.update(config or {})
    app.extensions["huiyan"] = Services.open(settings)
    metrics.init(app, settings)  # first: its timer starts before any other hook answers
    security.init(app, settings)
    i18n.init(app, settings)
    auth.init(app)
    access.init(app)
    errors.init(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).blueprint)
    return app
