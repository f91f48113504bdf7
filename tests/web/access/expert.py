"""The expert part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import Route, only

EXPERT = only("expert")

ROUTES = [
    Route("expert.index", "GET", "/expert/", EXPERT),
    Route("expert.tasks_json", "GET", "/expert/tasks.json", EXPERT),
    Route("expert.declarations", "GET", "/expert/declarations", EXPERT),
    Route("expert.sign_agreement", "POST", "/expert/agreement", EXPERT),
    Route("expert.declare", "POST", "/expert/declaration", EXPERT),
    Route("expert.task", "GET", "/expert/tasks/{id}", EXPERT),
    Route("expert.task", "POST", "/expert/tasks/{id}", EXPERT),
    Route("expert.report", "GET", "/expert/tasks/{id}/report.pdf", EXPERT),
]
