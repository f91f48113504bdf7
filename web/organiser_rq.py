"""The RQ dashboard (package ``rq_dashboard``) under /organiser/rq, for the organiser alone
(docs/web/organiser.md, "The queues").

It is mounted when the organiser's blueprint is registered, on the deployment's Redis
(``HUIYAN_REDIS_URL``). Without Redis the jobs run in-process and there is no queue: every
route of the dashboard then answers with a page that says so.

Its pages keep our content security policy but for two things they cannot do without: its own
inline script (which we give a per-request nonce, through our copy of its base template,
web/templates/rq_dashboard/base.html) and underscore's templates (compiled with ``new
Function``: ``'unsafe-eval'``). Only the dashboard's views get that relaxed policy, through
Flask-Talisman's per-view options. Its buttons post with our CSRF token (web/static/organiser.js
sets it on jQuery's requests).
"""

from __future__ import annotations

import inspect
from typing import Any

import rq_dashboard
from flask import Flask, abort, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from domain.accounts import Role
from web.access import admit_blueprint
from web.organiser import blueprint
from web.security import CONTENT_SECURITY_POLICY

NAME = "rq_dashboard"
PREFIX = "/organiser/rq"
# The dashboard's own policy: ours, with a nonce for its inline script and eval for
# underscore's templates.
DASHBOARD_POLICY = {**CONTENT_SECURITY_POLICY, "script-src": ["'self'", "'unsafe-eval'"]}


@blueprint.record_once
def _mount(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    settings = app.config["HUIYAN_SETTINGS"]
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 5000)
    app.config.setdefault("RQ_DASHBOARD_DISABLE_DELETE", False)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    admit_blueprint(app, NAME, Role.ORGANISER)
    for endpoint, view in app.view_functions.items():
        # Its pages (functions); its static files (a bound method) need no script.
        if endpoint.startswith(f"{NAME}.") and inspect.isfunction(view):
            view.talisman_view_options = {
                "content_security_policy": DASHBOARD_POLICY,
                "content_security_policy_nonce_in": ["script-src"],
            }
    if settings.redis_url:
        app.config["RQ_DASHBOARD_REDIS_URL"] = settings.redis_url
        rq_dashboard.web.setup_rq_connection(app)
    # After the access check (registered before the blueprints): only the organiser gets here.
    app.before_request(_guard)


def _guard() -> Any:
    """Before the dashboard's own code: a change is never made by a GET (its "requeue all"
    takes one, which a link from another site could follow); without Redis, every route
    answers with the page that says why there is no queue."""
    if request.blueprint != NAME:
        return None
    if request.method == "GET" and request.endpoint == f"{NAME}.requeue_all":
        abort(405)
    if current_app.config.get("RQ_DASHBOARD_REDIS_URL"):
        return None
    return render_template("organiser/no_queue.html")
