"""The team part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, Route, only

TEAM = only("team_member")

ROUTES = [
    Route("team.sign_up", "GET", "/team/sign-up", PUBLIC),
    Route("team.sign_up", "POST", "/team/sign-up", PUBLIC),
    Route("team.index", "GET", "/team/", TEAM),
    Route("team.register", "GET", "/team/register", TEAM),
    Route("team.register", "POST", "/team/register", TEAM),
    Route("team.choose_language", "POST", "/team/language", TEAM),
    Route("team.enter_track", "POST", "/team/tracks", TEAM),
    Route("team.invite", "POST", "/team/invite", TEAM),
    Route("team.upload_documents", "POST", "/team/documents", TEAM),
    Route("team.submit_registration", "POST", "/team/submit-registration", TEAM),
    Route("team.withdraw", "POST", "/team/withdraw", TEAM),
    Route("team.accept", "GET", "/team/accept", TEAM),
    Route("team.accept", "POST", "/team/accept", TEAM),
    Route("team.submissions", "GET", "/team/submissions", TEAM),
    Route("team.submissions", "POST", "/team/submissions", TEAM),
    Route("team.submission", "GET", "/team/submissions/{id}", TEAM),
    Route("team.submission_status", "GET", "/team/submissions/{id}/status.json", TEAM),
    Route("team.results", "GET", "/team/results", TEAM),
    Route("team.figure", "GET", "/team/results/7/figures/0.png", TEAM),
    Route("team.receipt_download", "GET", "/team/results/7/receipts/0.json", TEAM),
    Route("team.appeals", "GET", "/team/appeals", TEAM),
    Route("team.appeal_new", "GET", "/team/appeals/new", TEAM),
    Route("team.appeal_new", "POST", "/team/appeals/new", TEAM),
    Route("team.appeal", "GET", "/team/appeals/{id}", TEAM),
]
