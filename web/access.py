"""Deny by default: every route declares who it admits, and a route that declares nothing is
refused to everyone.

``@admits(Role.ORGANISER)`` admits a role; ``@admits(PUBLIC)`` admits anyone, signed in or
not; ``@admits(SIGNED_IN)`` anyone signed in. A whole blueprint that is not ours (the RQ
dashboard) is admitted with :func:`admit_blueprint`. A refusal of a signed-in person is a 403
and an entry in the access log; someone not signed in is sent to sign in.

A privileged role that has not enrolled a second factor may only enrol one, as on the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from domain.accounts import Role
from web.context import desk

PUBLIC = "public"
SIGNED_IN = "signed-in"
Admitted = Role | str

F = TypeVar("F", bound=Callable[..., Any])

# Routes a person who still has to enrol a second factor may use.
ENROLMENT = frozenset({"auth.enrol_totp", "auth.sign_out", "public.language"})


def admits(*who: Admitted) -> Callable[[F], F]:
    """Declares the roles a view admits."""

    def mark(view: F) -> F:
        view.admitted = frozenset(who)  # type: ignore[attr-defined]
        return view

    return mark


def admit_blueprint(app: Flask, blueprint_name: str, *who: Admitted) -> None:
    """Admits roles to every route of a blueprint we did not write."""
    app.extensions.setdefault("huiyan_admitted_blueprints", {})[blueprint_name] = frozenset(who)


def admitted(app: Flask, endpoint: str) -> frozenset[Admitted]:
    """Who the route named ``endpoint`` admits: nobody unless it says."""
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint)
    if view is not None and hasattr(view, "admitted"):
        return view.admitted
    blueprint = endpoint.rpartition(".")[0]
    return app.extensions.get("huiyan_admitted_blueprints", {}).get(blueprint, frozenset())


def init(app: Flask) -> None:
    app.before_request(_check)


def _check() -> Any:
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no such route: Flask answers 404
    who = admitted(current_app, endpoint)
    if PUBLIC in who:
        return None
    if not current_user.is_authenticated:
        if not who:
            abort(403)
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if current_user.must_enrol and endpoint not in ENROLMENT:
        return redirect(url_for("auth.enrol_totp"))
    if SIGNED_IN in who or current_user.role in who:
        return None
    desk().record_access(current_user.actor, f"web.{endpoint}", request.path, "refused")
    abort(403)
