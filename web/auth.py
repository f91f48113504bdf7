"""Signing in and out in the browser, and enrolling a second factor (the people issue's
authentication, docs/people.md).

The session cookie holds a huiyan session token (services/sessions.py), the same kind the CLI
keeps in a file: signing out, a changed password or an expired session ends it on the server,
whatever the cookie says. Sign-in is rate-limited per address on top of the login's own
lock after five failures.
"""

from __future__ import annotations

import base64
from typing import Any

import segno
from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.accounts import Account, Actor, Role
from services import enrolment
from services.sessions import SessionError
from services.signin import SignInRefused
from web.access import PUBLIC, SIGNED_IN, admits
from web.context import desk
from web.security import limiter

blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()


class WebUser:
    """The signed-in person as Flask-Login sees them; ``get_id`` is their session token."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: Account, token: str) -> None:
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self) -> Actor:
        return self.account.actor

    @property
    def role(self) -> Role:
        return self.account.role

    @property
    def team_id(self) -> Any:
        return self.account.team_id

    @property
    def must_enrol(self) -> bool:
        return self.account.needs_second_factor and not self.account.second_factor


def init(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = ""
    login_manager.user_loader(_load)


def _load(token: str) -> WebUser | None:
    try:
        return WebUser(desk().auth.account_of_token(token, desk().now), token)
    except SessionError:
        return None


class SignInForm(FlaskForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    code = StringField(_l("TOTP code"), validators=[Optional(), Length(max=12)])


@blueprint.route("/sign-in", methods=["GET", "POST"])
@admits(PUBLIC)
@limiter.limit("10 per minute", methods=["POST"])
def sign_in() -> Any:
    form = SignInForm()
    if form.validate_on_submit():
        try:
            account, token = desk().auth.open_session(
                form.login.data,
                form.password.data,
                form.code.data or None,
                origin=desk().origin,
                now=desk().now,
            )
        except SignInRefused as refused:
            flash(_("Sign-in refused: %(why)s", why=str(refused)), "error")
        else:
            session.clear()
            session.permanent = True
            login_user(WebUser(account, token))
            return redirect(_next_page())
    return render_template("auth/sign_in.html", form=form)


def _next_page() -> str:
    """Back where the person was going, on this site only."""
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("public.index")


@blueprint.route("/sign-out", methods=["POST"])
@admits(SIGNED_IN)
def sign_out() -> Any:
    desk().auth.sessions.close(current_user.token)
    logout_user()
    session.clear()
    return redirect(url_for("public.index"))


class EnrolForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    code = StringField(_l("TOTP code"), validators=[DataRequired(), Length(max=12)])


@blueprint.route("/account/second-factor", methods=["GET", "POST"])
@admits(SIGNED_IN)
def enrol_totp() -> Any:
    """A privileged person enrols a TOTP secret: shown once as a QR code, proved by a code."""
    if current_user.account.second_factor:
        flash(_("Your second factor is enrolled."), "info")
        return redirect(url_for("public.index"))
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            enrolment.enrol(desk(), current_user.account, form.password.data, form.code.data)
        except SignInRefused as refused:
            flash(_("Enrolment refused: %(why)s", why=str(refused)), "error")
        else:
            logout_user()
            session.clear()
            flash(_("Second factor enrolled: sign in again with a code."), "info")
            return redirect(url_for("auth.sign_in"))
    uri = enrolment.enrolment_uri(desk(), current_user.account)
    svg = segno.make(uri).svg_inline(scale=4)
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return render_template("auth/enrol.html", form=form, qr=qr, uri=uri)
