"""What the expert and arbitrator pages share (web/expert.py, web/arbitrator.py): a refusal of
someone else's entry or appeal as a 403 with its access-log entry, JSON answers, and the one
route whose answer may be shown in a frame of this site (the sanitised report)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from flask import Response, abort, request
from flask_login import current_user

from domain.time import SHANGHAI
from web.context import desk
from web.security import CONTENT_SECURITY_POLICY

F = TypeVar("F", bound=Callable[..., Any])

# A PDF shown in an <iframe> of our own page: framed by this site only, and nothing else of
# the policy loosened (it runs no script of ours).
_FRAMED_POLICY = {**CONTENT_SECURITY_POLICY, "frame-ancestors": "'self'"}


def embeddable(view: F) -> F:
    """Lets this route's answer be framed by this site's pages (X-Frame-Options SAMEORIGIN,
    ``frame-ancestors 'self'``); every other route stays unframeable. Flask-Talisman reads
    these per-view options from the view function."""
    view.talisman_view_options = {  # type: ignore[attr-defined]
        "frame_options": "SAMEORIGIN",
        "content_security_policy": _FRAMED_POLICY,
    }
    return view


def refused_here(subject: object) -> NoReturn:
    """Someone else's entry or appeal: 403, and the attempt in the access log."""
    desk().record_access(current_user.actor, f"web.{request.endpoint}", str(subject), "refused")
    abort(403)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)  # an id, a decimal, an enum: as text


def as_json(value: Any) -> str:
    """JSON as the CLI prints it (times in Shanghai, ids as text); whatever else an
    aggregate's state holds is shown as text rather than refused."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=_plain)


def json_response(value: Any) -> Response:
    return Response(as_json(value) + "\n", mimetype="application/json")
