"""The arbitrator pages (docs/web/panel.md): the appeals an arbitrator was drawn for, each
matter's timeline with the status of every signature, its state as of any moment, a re-score
from the recorded inputs, and the signed ruling. The same services as ``huiyan appeal`` and
``huiyan audit state`` (services/arbitration.py, audit/matter.py).

An arbitrator reads only the appeals they were drawn for: any other is refused with a 403 and
an access-log entry, as the CLI refuses it with ``appeal.not_yours``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from audit.matter import appeal_matter, as_of, position_as_of, public_state
from domain.accounts import Role
from domain.appeals import OUTCOMES, Appeal
from domain.errors import AppealNotFound, AppealNotYours
from services import arbitration
from services.judging_steps import JudgingDesk, appeals_for
from services.refusals import REFUSALS
from web.access import admits
from web.context import desk, judging_desk, kept_pages, ledger_head
from web.errors import refusal
from web.panel import as_json, refused_here
from web.signing import SignForm, signer

blueprint = Blueprint("arbitrator", __name__, url_prefix="/arbitrator")

OUTCOME_NAMES = {"dismissed": _l("Dismissed"), "upheld": _l("Upheld")}
REMEDY_NAMES = {
    "rescore": _l("Re-score under a rules version"),
    "rereview": _l("A new expert review"),
    "correct": _l("Correct the recorded value"),
}


@blueprint.route("/")
@admits(Role.ARBITRATOR)
def index() -> Any:
    """The appeals this arbitrator was drawn for, in every contest."""
    jd, acting = judging_desk(), current_user.actor
    drawn = [
        arbitration.appeal_view(found)
        for contest in desk().app.contests()
        for found in appeals_for(jd, contest.id, acting)
    ]
    return render_template("arbitrator/index.html", appeals=drawn)


def _appeal(jd: JudgingDesk, appeal_id: UUID) -> Appeal:
    """An appeal this arbitrator was drawn for: 404 for none, 403 for another's."""
    try:
        return arbitration.arbitrating(jd, current_user.actor, appeal_id)
    except AppealNotFound:
        abort(404)
    except AppealNotYours:
        refused_here(appeal_id)


# --- the appeal and the ruling ----------------------------------------------------------------


class RulingForm(SignForm):
    outcome = SelectField(
        _l("Outcome"), choices=[SelectChoice(o, OUTCOME_NAMES[o]) for o in OUTCOMES],
        validators=[InputRequired()],
    )  # fmt: skip
    remedy = SelectField(_l("Remedy (an upheld appeal)"), validators=[Optional()])
    rules_version = IntegerField(
        _l("Rules version (re-score)"), validators=[Optional(), NumberRange(min=1, max=10_000)]
    )
    value = StringField(
        _l("Corrected value (0–1, or true/false for the gates)"),
        validators=[Optional(), Length(max=32)],
    )
    reasons = TextAreaField(
        _l("Reasons of the ruling"),
        validators=[DataRequired(), Length(max=arbitration.REASONS_LIMIT // 4)],
    )


class RescoreForm(FlaskForm):
    rules_version = IntegerField(
        _l("Rules version (default: the entry's own)"),
        validators=[Optional(), NumberRange(min=1, max=10_000)],
    )


def _ruling_form(jd: JudgingDesk, found: Appeal) -> RulingForm:
    form = RulingForm()
    remedies = jd.rules(found.contest_id)[0].appeals.remedies
    form.remedy.choices = [SelectChoice("", _("None (dismissed)"))] + [
        SelectChoice(kind, REMEDY_NAMES.get(kind, kind)) for kind in remedies
    ]
    return form


def _appeal_page(
    jd: JudgingDesk,
    found: Appeal,
    form: RulingForm,
    *,
    rescored: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    reasons, ruling_reasons = arbitration.reasons(jd, current_user.actor, found)
    page = render_template(
        "arbitrator/appeal.html",
        appeal=arbitration.appeal_view(found),
        reasons=reasons,
        ruling_reasons=ruling_reasons,
        form=form,
        rescore_form=RescoreForm(),
        rescored=rescored,
        outcome_names=OUTCOME_NAMES,
        remedy_names=REMEDY_NAMES,
    )
    return page, status


@blueprint.route("/appeals/<uuid:appeal_id>")
@admits(Role.ARBITRATOR)
def appeal(appeal_id: UUID) -> Any:
    """One appeal: its reasons, the re-score button, the ruling form (or the ruling)."""
    jd = judging_desk()
    found = _appeal(jd, appeal_id)
    return _appeal_page(jd, found, _ruling_form(jd, found))


@blueprint.route("/appeals/<uuid:appeal_id>/ruling", methods=["POST"])
@admits(Role.ARBITRATOR)
def rule(appeal_id: UUID) -> Any:
    """The ruling, signed (``appeal rule``); a wrong password records nothing."""
    jd = judging_desk()
    found = _appeal(jd, appeal_id)
    form = _ruling_form(jd, found)
    if not form.validate_on_submit():
        return _appeal_page(jd, found, form, status=400)
    try:
        status = arbitration.rule(
            jd,
            current_user.actor,
            appeal_id,
            outcome=form.outcome.data,
            remedy=form.remedy.data or None,
            rules_version=form.rules_version.data,
            value=form.value.data or None,
            reasons_text=form.reasons.data.encode("utf-8"),
            signer=signer(form),
        )
    except REFUSALS as error:
        flash(refusal(error), "error")
        return _appeal_page(jd, jd.judging.appeal(appeal_id), form, status=400)
    flash(_("Your ruling is signed and recorded: %(status)s.", status=status), "info")
    return redirect(url_for("arbitrator.appeal", appeal_id=appeal_id))


@blueprint.route("/appeals/<uuid:appeal_id>/rescore", methods=["POST"])
@admits(Role.ARBITRATOR)
def rescore(appeal_id: UUID) -> Any:
    """The entry re-scored from its recorded inputs (``appeal rescore``): "same bytes", or
    the figures that differ. Records nothing but the access."""
    jd = judging_desk()
    found = _appeal(jd, appeal_id)
    form = RescoreForm()
    if not form.validate_on_submit():
        return _appeal_page(jd, found, _ruling_form(jd, found), status=400)
    try:
        rescored = arbitration.rescore_appeal(
            jd, current_user.actor, appeal_id, form.rules_version.data
        )
    except REFUSALS as error:
        flash(refusal(error), "error")
        return _appeal_page(jd, found, _ruling_form(jd, found), status=400)
    return _appeal_page(jd, found, _ruling_form(jd, found), rescored=rescored)


# --- the matter: its timeline and its state as of a moment --------------------------------------


@blueprint.route("/appeals/<uuid:appeal_id>/timeline")
@admits(Role.ARBITRATOR)
def timeline(appeal_id: UUID) -> Any:
    """The matter's events in ledger order with the status of each signature (``appeal
    replay``). The replay is kept per ledger head (a matter holds whole publications, costly to
    decode); who may see it is checked on every request."""
    jd = judging_desk()
    _appeal(jd, appeal_id)
    arbitration.arbitrating(jd, current_user.actor, appeal_id)
    kept, key = kept_pages("timelines", 64), (ledger_head(), appeal_id)
    lines = kept.get(key)
    if lines is None:
        lines = arbitration.replay(jd, current_user.actor, appeal_id)
        kept.put(key, lines)
    desk().record_access(current_user.actor, "read.timeline", appeal_id, "ok")
    return render_template("arbitrator/timeline.html", appeal_id=appeal_id, lines=lines)


@blueprint.route("/appeals/<uuid:appeal_id>/state")
@admits(Role.ARBITRATOR)
def state(appeal_id: UUID) -> Any:
    """The matter's aggregates as they were at a ledger position or a time (``audit state
    --as-of``)."""
    jd = judging_desk()
    found = _appeal(jd, appeal_id)
    given = request.args.get("as_of", "").strip()[:64]
    problem = _as_of_problem(given) if given else None
    shown = None
    if given and problem is None:
        ids = appeal_matter(jd.judging, found)
        lines = arbitration.replay(jd, current_user.actor, appeal_id)
        limit = position_as_of(given, lines)
        then = as_of(jd.judging, jd.ledger, ids, limit)
        shown = {
            "position": limit,
            "aggregates": [
                (str(ident), public_state(aggregate)["kind"], as_json(public_state(aggregate)))
                for ident, aggregate in then.items()
            ],
        }
        desk().record_access(current_user.actor, "read.state", appeal_id, "ok")
    page = render_template(
        "arbitrator/state.html", appeal_id=appeal_id, given=given, problem=problem, shown=shown
    )
    return page, 400 if problem else 200


def _as_of_problem(given: str) -> str | None:
    """What is wrong with an "as of" (in the page's language), or None."""
    if given.isdigit():
        return None
    try:
        moment = datetime.fromisoformat(given)
    except ValueError:
        return _("Give a ledger position (a number) or a time such as 2026-10-04T10:00+08:00.")
    if moment.tzinfo is None:
        return _("The time needs its zone, such as +08:00.")
    return None
