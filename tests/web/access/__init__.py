"""The authorisation matrix, one table per part of the site: every route of the application
with the roles it admits. tests/web/test_access_matrix.py checks that the table names every
route there is, and that every role gets the answer the table says from every route.

``path`` may hold ``{id}`` (a made-up UUID: the access check comes before any lookup, so an
admitted role gets past it to a 404 and a refused one never gets that far) and ``{team}`` (the
signed-in team member's own team).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str
    admits: frozenset[str]


PUBLIC = frozenset({"public"})
SIGNED_IN = frozenset({"signed-in"})


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)
