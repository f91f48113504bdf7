"""The compliance part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import Route, only

AUDITORS = only("compliance_officer", "audit_administrator")

ROUTES = [
    Route("compliance.index", "GET", "/compliance/", AUDITORS),
    Route("compliance.verify", "POST", "/compliance/verify", AUDITORS),
    Route("compliance.run", "GET", "/compliance/verify/{id}", AUDITORS),
    Route("compliance.progress", "GET", "/compliance/verify/{id}/progress", AUDITORS),
    Route("compliance.event", "GET", "/compliance/events", AUDITORS),
    Route("compliance.bundle_page", "GET", "/compliance/bundle", AUDITORS),
    Route("compliance.bundle", "POST", "/compliance/bundle", AUDITORS),
    Route("compliance.access_log", "GET", "/compliance/access-log", only("audit_administrator")),
]
