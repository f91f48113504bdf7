"""The team part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, Route, only

ROUTES = [
    Route("team.index", "GET", "/team/", only("team_member")),
    Route("team.sign_up", "GET", "/team/sign-up", PUBLIC),
]
