"""The notices part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, Route, only

ORGANISER = only("organiser")

ROUTES = [
    Route("notices.announcements", "GET", "/announcements", PUBLIC),
    Route("notices.announcement", "GET", "/announcements/{id}", PUBLIC),
    Route("notices.data", "GET", "/data", PUBLIC),
    Route("notices.publish", "GET", "/announcements/new", ORGANISER),
    Route("notices.publish", "POST", "/announcements/new", ORGANISER),
    Route("notices.revise", "GET", "/announcements/{id}/revise", ORGANISER),
    Route("notices.revise", "POST", "/announcements/{id}/revise", ORGANISER),
    Route("notices.withdraw", "GET", "/announcements/{id}/withdraw", ORGANISER),
    Route("notices.withdraw", "POST", "/announcements/{id}/withdraw", ORGANISER),
]
