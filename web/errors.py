"""How a refusal looks in the browser: the domain's own message in the page's language, with
its key, and the right status; never a traceback.

A form view catches the refusals it expects and shows them beside the form (:func:`refusal`);
what escapes a view is shown on the error page by the handlers here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from domain.errors import DomainError, NotPermitted, TeamNotYours
from services.refusals import REFUSALS
from web.i18n import language


def refusal(error: BaseException) -> str:
    """One line that says why, in the page's language."""
    if isinstance(error, DomainError):
        return f"{error.message(language())} [{error.key}]"
    return str(error)


def init(app: Flask) -> None:
    for kind in REFUSALS:
        app.register_error_handler(kind, _refused)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)


def _refused(error: Exception) -> Any:
    status = 403 if isinstance(error, NotPermitted | TeamNotYours) else 400
    return render_template("error.html", status=status, message=refusal(error)), status


def _csrf(error: CSRFError) -> Any:
    message = _("The form expired or did not come from this site; reload the page and try again.")
    return render_template("error.html", status=400, message=message), 400


def _http(error: HTTPException) -> Any:
    messages = {
        403: _("You may not open this page."),
        404: _("There is no such page."),
        405: _("This page does not take that request."),
        413: _("The upload is larger than this site accepts."),
        429: _("Too many attempts; wait a minute and try again."),
    }
    status = error.code or 500
    message = messages.get(status, _("The request could not be served."))
    return render_template("error.html", status=status, message=message), status
