"""The auth part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, SIGNED_IN, Route

ROUTES = [
    Route("auth.sign_in", "GET", "/sign-in", PUBLIC),
    Route("auth.sign_in", "POST", "/sign-in", PUBLIC),
    Route("auth.sign_out", "POST", "/sign-out", SIGNED_IN),
    Route("auth.enrol_totp", "GET", "/account/second-factor", SIGNED_IN),
    Route("auth.enrol_totp", "POST", "/account/second-factor", SIGNED_IN),
]
