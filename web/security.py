"""The browser-facing protections: CSRF on every form, a strict content security policy and
the other security headers, rate limits, and session cookies that are ``Secure`` everywhere
but plain-HTTP loopback in development.

The policy admits scripts, styles and images from this site only (and ``data:`` images for QR
codes and plots): no inline script runs, so a team name that carries ``<script>`` is text even
if a template forgot to escape it.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from ledger.settings import Settings

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

limiter = Limiter(key_func=get_remote_address, default_limits=[])
csrf = CSRFProtect()


class SessionCookies(SecureCookieSessionInterface):
    """``Secure`` unless this is development (or a test) served on loopback over HTTP."""

    def __init__(self, settings: Settings) -> None:
        self.relaxed = not settings.is_production

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        return not (self.relaxed and _is_loopback(request))


def _is_loopback(request: Request) -> bool:
    return request.host.rsplit(":", 1)[0] in LOOPBACK and request.scheme == "http"


def init(app: Flask, settings: Settings) -> None:
    app.session_interface = SessionCookies(settings)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    Talisman(
        app,
        force_https=False,  # TLS ends at the deployment's proxy (docs/web.md)
        strict_transport_security=settings.is_production,
        session_cookie_secure=False,  # decided per request by SessionCookies
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
    )
