"""The compliance pages (docs/web/compliance.md): the ledger's health, a verification run with
its progress, any event with its inclusion proof, audit bundles, and (for the audit
administrator alone) the access log.

Each page calls what the CLI calls: ``huiyan ledger verify`` (services/verification.py runs
it), ``huiyan ledger proof`` and ``audit timeline`` (services/ledger_view.py), ``huiyan audit
export`` (services/audit_export.py) and ``huiyan access-log`` (audit/access_log.py).
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, time
from typing import Any
from uuid import UUID

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import UUID as IsUUID
from wtforms.validators import DataRequired, InputRequired, Optional

from domain.accounts import Role
from domain.errors import AppealNotYours, NotPermitted
from domain.time import SHANGHAI
from ledger.ledger import Ledger, LedgerError
from services import audit_export, ledger_view
from services.read_models import listings
from services.refusals import REFUSALS
from services.verification import STREAMS, Verifications
from web.access import admits
from web.context import desk, judging_desk, services
from web.errors import refusal

blueprint = Blueprint("compliance", __name__, url_prefix="/compliance")

AUDITORS = (Role.COMPLIANCE_OFFICER, Role.AUDIT_ADMINISTRATOR)
RECENT_RUNS = 10
ACCESS_LOG_ROWS = 500


def the_ledger() -> Ledger:
    """The contest ledger, opened once per process (its engine pools connections)."""
    settings = services().settings
    opened = current_app.extensions.get("huiyan_ledger")
    if opened is None or opened[0] != settings.database_url:
        opened = (settings.database_url, Ledger.from_settings(settings))
        current_app.extensions["huiyan_ledger"] = opened
    return opened[1]


def verifications() -> Verifications:
    return Verifications(services().settings)


class VerifyForm(FlaskForm):
    stream = RadioField(
        _l("What to verify"),
        choices=[
            SelectChoice("contest", _l("The contest's ledger")),
            SelectChoice("access", _l("The access log")),
        ],
        validators=[InputRequired()],
    )


class LookupForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that only reads

    position = StringField(_l("Position"), validators=[DataRequired()])


class BundleForm(FlaskForm):
    scope = RadioField(
        _l("What the bundle holds"),
        validators=[InputRequired()],
        choices=[
            SelectChoice("all", _l("The whole ledger")),
            SelectChoice("team", _l("A team's matter")),
            SelectChoice("appeal", _l("An appeal's matter")),
        ],
    )
    team = SelectField(_l("Team"), choices=[], validate_choice=False)
    appeal = StringField(_l("Appeal id"), validators=[Optional(), IsUUID()])
    with_documents = BooleanField(_l("With personal files (compliance officer only)"))


# --- health and verification -----------------------------------------------------------------


@blueprint.route("/")
@admits(*AUDITORS)
def index() -> Any:
    runs = verifications().runs()
    verify_form = VerifyForm()
    verify_form.stream.data = "contest"
    return render_template(
        "compliance/index.html",
        health=ledger_view.health(the_ledger()),
        last={s: next((r for r in runs if r.stream == s and r.finished), None) for s in STREAMS},
        runs=runs[:RECENT_RUNS],
        verify_form=verify_form,
        lookup_form=LookupForm(),
    )


@blueprint.route("/verify", methods=["POST"])
@admits(*AUDITORS)
def verify() -> Any:
    form = VerifyForm()
    if not form.validate_on_submit():
        abort(400)
    actor = current_user.actor
    run = verifications().start(
        form.stream.data, who=str(actor.account_id), role=actor.role.value, now=desk().now
    )
    desk().record_access(actor, "admin.ledger_verify", run.id, "ok")
    return redirect(url_for("compliance.run", run_id=run.id))


@blueprint.route("/verify/<run_id>")
@admits(*AUDITORS)
def run(run_id: str) -> Any:
    found = verifications().get(run_id)
    if found is None:
        abort(404)
    return render_template("compliance/run.html", run=found.shown())


@blueprint.route("/verify/<run_id>/progress")
@admits(*AUDITORS)
def progress(run_id: str) -> Any:
    found = verifications().get(run_id)
    if found is None:
        abort(404)
    return jsonify(found.shown())


# --- one event -------------------------------------------------------------------------------


@blueprint.route("/events")
@admits(*AUDITORS)
def event() -> Any:
    form = LookupForm(request.args)
    text = (form.position.data or "").strip()
    shown, problem, status = None, None, 200
    if text and not text.isdigit():
        problem, status = _("A position is a whole number, 0 or more."), 400
    elif text:
        try:
            shown = ledger_view.event_at(the_ledger(), int(text))
        except LedgerError:
            problem, status = _("There is no event at position %(position)s.", position=text), 404
    page = render_template("compliance/event.html", form=form, shown=shown, problem=problem)
    return page, status


# --- audit bundles ---------------------------------------------------------------------------


def _bundle_form() -> BundleForm:
    form = BundleForm()
    jd = judging_desk()
    form.team.choices = [
        SelectChoice(str(listed.id), listed.name)
        for contest in jd.desk.app.contests()
        for listed in listings(jd.judging).teams(contest.id)
    ]
    return form


@blueprint.route("/bundle")
@admits(*AUDITORS)
def bundle_page() -> Any:
    return render_template("compliance/bundle.html", form=_bundle_form(), problem=None)


@blueprint.route("/bundle", methods=["POST"])
@admits(*AUDITORS)
def bundle() -> Any:
    """Writes the bundle as ``huiyan audit export`` does, then streams it as a download."""
    form = _bundle_form()
    if not form.validate_on_submit():
        return render_template("compliance/bundle.html", form=form, problem=None), 400
    team_id = appeal_id = None
    try:
        if form.scope.data == "team":
            team_id = UUID(form.team.data)
        elif form.scope.data == "appeal":
            appeal_id = UUID(form.appeal.data)
    except (TypeError, ValueError):
        problem = _("Choose the team, or give the appeal's id.")
        return render_template("compliance/bundle.html", form=form, problem=problem), 400
    folder = services().settings.home / "cache" / "bundles"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    out = folder / f"{secrets.token_hex(16)}.zip"
    try:
        audit_export.export(
            judging_desk(),
            current_user.actor,
            out,
            team_id=team_id,
            appeal_id=appeal_id,
            with_documents=form.with_documents.data,
        )
    except REFUSALS as error:
        out.unlink(missing_ok=True)
        status = 403 if isinstance(error, NotPermitted | AppealNotYours) else 400
        return render_template("compliance/bundle.html", form=form, problem=refusal(error)), status
    stream = out.open("rb")
    os.unlink(out)  # the open file stays readable; nothing is left behind on disk
    subject = team_id or appeal_id or "all"
    name = f"huiyan-audit-{form.scope.data}-{subject}-{desk().now:%Y%m%dT%H%M}.zip"
    return send_file(stream, mimetype="application/zip", as_attachment=True, download_name=name)


# --- the access log --------------------------------------------------------------------------


@blueprint.route("/access-log")
@admits(Role.AUDIT_ADMINISTRATOR)
def access_log() -> Any:
    """The access log as ``huiyan access-log`` prints it, newest first; the read is recorded."""
    since_text = request.args.get("since", "").strip()
    who = request.args.get("who", "").strip() or None
    what = request.args.get("what", "").strip() or None
    since, problem = None, None
    if since_text:
        try:
            since = datetime.combine(datetime.fromisoformat(since_text).date(), time(), SHANGHAI)
        except ValueError:
            problem = _("Give the date as YYYY-MM-DD.")
    entries = [] if problem else services().access.entries(since=since, who=who, what=what)
    desk().record_access(current_user.actor, "read.access_log", "access_log", "ok")
    entries.reverse()
    return render_template(
        "compliance/access_log.html",
        entries=entries[:ACCESS_LOG_ROWS],
        total=len(entries),
        shown_at_most=ACCESS_LOG_ROWS,
        since=since_text,
        who=who or "",
        what=what or "",
        problem=problem,
    ), (400 if problem else 200)
