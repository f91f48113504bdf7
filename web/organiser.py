"""The organiser's pages (docs/web/organiser.md): the contest and its rules, the calendar, the
registration review queue, the blacklists, the test sets and the debug phase; the experts, the
review's assignment and results in web/organiser_judging.py; the RQ dashboard in
web/organiser_rq.py.

Every page is the organiser's alone, and each action calls the same service as the CLI
command of the same name (services/organising.py, services/intake.py,
services/submissions.py): a decision made here is checked, signed and logged as on the console.
An action answers with a redirect back to its page and a one-line message (flashed), so a
reload never repeats it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from domain.accounts import Role
from domain.contest import DOCUMENT_KINDS, Contest
from domain.debug_phase import DEFAULT_LOG_CAP
from domain.signatures import Signer
from domain.time import shanghai_text
from services import intake, organising
from services.errors import ServiceRefused
from services.refusals import REFUSALS
from services.strict_files import FileInvalid
from services.submissions import add_testset
from web.access import admits
from web.context import desk, round_desk, services
from web.errors import refusal
from web.signing import SignForm, signer
from web.uploads import received

blueprint = Blueprint("organiser", __name__, url_prefix="/organiser")

YAML_LIMIT = 1 << 20
LIST_LIMIT = intake.CSV_LIMIT
TESTSET_LIMIT = 512 << 20
PDF_TYPE = "application/pdf"


# The words the pages show for the calendar's phases and a registration's status.
PHASE_LABELS = {
    "registration": _l("Registration"),
    "modification": _l("Changes to registrations"),
    "preparation": _l("Preparation of the round"),
    "preliminary": _l("Preliminary round"),
    "judging": _l("Expert review and results"),
    "final": _l("Final round"),
    "closed": _l("Closed"),
}
STATUS_LABELS = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
}


@blueprint.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "when": lambda moment: shanghai_text(moment) if moment else "—",
        "phase_label": lambda name: PHASE_LABELS.get(name, name),
        "status_label": lambda name: STATUS_LABELS.get(name, name),
    }


# --- shared between the organiser's views ----------------------------------------------------


def the_contest() -> Contest | None:
    """The contest the pages work on: the one named by ``?contest=<slug>``, else the latest
    created (an instance normally holds one); None before any is created."""
    found = desk().app.contests()
    slug = request.args.get("contest")
    if slug:
        found = [contest for contest in found if contest.slug == slug] or found
    return max(found, key=lambda contest: contest.created_at) if found else None


def said(error: BaseException) -> str:
    """A refusal in one line: a file's problems by field (never the server's path of the
    upload), anything else as web.errors says it."""
    if isinstance(error, FileInvalid):
        problems = "; ".join(f"{where}: {what}" for where, what in error.problems)
        return _("The file was not accepted: %(problems)s", problems=problems)
    return refusal(error)


@contextmanager
def acting(done: str = "") -> Iterator[None]:
    """Runs an action: a refusal is flashed as an error; success flashes ``done``."""
    try:
        yield
    except REFUSALS as error:
        flash(said(error), "error")
    else:
        if done:
            flash(done, "info")


def checked(form: FlaskForm) -> bool:
    """The form came from our page and its fields are valid; otherwise each problem is
    flashed beside the page."""
    if form.validate_on_submit():
        return True
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}: {error}", "error")
    return False


def back(endpoint: str = "organiser.index", **values: Any) -> Response:
    return redirect(url_for(endpoint, **values))


def require_contest() -> Contest:
    contest = the_contest()
    if contest is None:
        raise ServiceRefused(_("There is no contest yet; create it first."))
    return contest


# --- the contest, its rules and calendar -----------------------------------------------------


class UploadForm(FlaskForm):
    file = FileField(_l("File"))


class RulesForm(SignForm):
    file = FileField(_l("Rules document (YAML)"))


@blueprint.route("/")
@admits(Role.ORGANISER)
def index() -> Any:
    contest = the_contest()
    context: dict[str, Any] = {"contest": contest, "upload": UploadForm(), "rules": RulesForm()}
    if contest is not None:
        calendar = contest.calendar
        context.update(
            phase=organising.current_phase(calendar, desk().now),
            phases=[
                (name, getattr(calendar, begins) if begins else contest.created_at)
                for name, begins in organising.PHASES
            ],  # fmt: skip
            calendar=calendar,
            versions=desk().app.rules(contest.id).versions,
        )
    return render_template("organiser/index.html", **context)


@blueprint.route("/contest", methods=["POST"])
@admits(Role.ORGANISER)
def create_contest() -> Any:
    def create(path: Path) -> None:
        intake.load_contest(path).create(desk().app, actor=current_user.actor, now=desk().now)

    upload_action(UploadForm(), "yaml", YAML_LIMIT, _("contest file"), create,
                  _("The contest is created."))  # fmt: skip
    return back()


@blueprint.route("/rules", methods=["POST"])
@admits(Role.ORGANISER)
def publish_rules() -> Any:
    def publish(path: Path, signs: Signer) -> None:
        version, sha256 = organising.publish_rules(
            desk(), current_user.actor, require_contest(), path, signs
        )
        flash(_("Rules version %(v)s published (%(sha)s).", v=version, sha=sha256), "info")

    form = RulesForm()
    upload_action(form, "yaml", YAML_LIMIT, _("rules document"), lambda p: publish(p, signer(form)))
    return back()


def upload_action(
    form: FlaskForm, kind: str, limit: int, what: str, act: Callable[[Path], None], done: str = ""
) -> None:
    """An action on an uploaded file (the form's ``file``): the form checked, the file
    received, the action done; a refusal is flashed, success says ``done``."""
    if checked(form):
        with (
            acting(done),
            received(request.files.get("file"), kind, limit=limit, what=what) as path,
        ):
            act(path)


@blueprint.route("/documents/call", methods=["POST"])
@admits(Role.ORGANISER)
def call_documents() -> Any:
    if checked(FlaskForm()):
        with acting(_("Every team is asked for the letters.")):
            desk().app.call_for_documents(
                require_contest().id, actor=current_user.actor, now=desk().now
            )
    return back()


# --- the registration review -----------------------------------------------------------------


class DecisionForm(SignForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class ClearForm(SignForm):
    match = HiddenField(validators=[DataRequired(), Length(max=200)])
    reason = TextAreaField(_l("Why the match is false"), validators=[Length(max=2000)])


@blueprint.route("/registrations")
@admits(Role.ORGANISER)
def registrations() -> Any:
    contest = the_contest()
    queue = organising.review_queue(desk(), contest.id) if contest else []
    return render_template("organiser/registrations.html", contest=contest, queue=queue)


@blueprint.route("/teams/<uuid:team_id>")
@admits(Role.ORGANISER)
def team(team_id: UUID) -> Any:
    found = desk().app.team(team_id)
    return render_template(
        "organiser/team.html",
        team=found,
        overdue=found.review_overdue(desk().now),
        kinds=DOCUMENT_KINDS,
        approve=DecisionForm(prefix="approve"),
        reject=DecisionForm(prefix="reject"),
        clear=ClearForm(prefix="clear"),
    )


@blueprint.route("/teams/<uuid:team_id>/documents/<kind>")
@admits(Role.ORGANISER)
def document(team_id: UUID, kind: str) -> Any:
    """The decrypted document, as ``huiyan team document``: the read is in the access log."""
    data = organising.read_document(desk(), current_user.actor, team_id, kind)
    return Response(
        data,
        mimetype=PDF_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{kind}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _decide(team_id: UUID, prefix: str, decide: Callable[..., None], done: str) -> Any:
    form = DecisionForm(prefix=prefix)
    if checked(form):
        with acting(done):
            decide(
                team_id,
                reason=form.reason.data or "",
                actor=current_user.actor,
                now=desk().now,
                signer=signer(form),
            )
    return back("organiser.team", team_id=team_id)


@blueprint.route("/teams/<uuid:team_id>/approve", methods=["POST"])
@admits(Role.ORGANISER)
def approve(team_id: UUID) -> Any:
    return _decide(team_id, "approve", desk().app.approve, _("The registration is approved."))


@blueprint.route("/teams/<uuid:team_id>/reject", methods=["POST"])
@admits(Role.ORGANISER)
def reject(team_id: UUID) -> Any:
    return _decide(team_id, "reject", desk().app.reject, _("The registration is rejected."))


@blueprint.route("/teams/<uuid:team_id>/clear", methods=["POST"])
@admits(Role.ORGANISER)
def clear_match(team_id: UUID) -> Any:
    form = ClearForm(prefix="clear")
    if checked(form):
        with acting(_("The match is cleared.")):
            desk().app.clear_match(
                team_id,
                form.match.data,
                reason=form.reason.data or "",
                actor=current_user.actor,
                now=desk().now,
                signer=signer(form),
            )
    return back("organiser.team", team_id=team_id)


# --- the blacklists --------------------------------------------------------------------------


class BlacklistForm(FlaskForm):
    file = FileField(_l("List file (CSV: organisation, credit_code)"))
    source = StringField(_l("Source"), validators=[DataRequired(), Length(max=200)])
    listed_on = StringField(_l("The list's date (YYYY-MM-DD)"), validators=[Optional()])


@blueprint.route("/blacklist", methods=["GET", "POST"])
@admits(Role.ORGANISER)
def blacklist() -> Any:
    form = BlacklistForm()
    contest = the_contest()
    if request.method == "POST":

        def screen(path: Path) -> None:
            _resumed, number, entries, disqualified = organising.import_blacklist(
                desk(),
                current_user.actor,
                require_contest().id,
                path,
                source=form.source.data,
                listed_on=form.listed_on.data or None,
            )
            flash(_("List %(n)s: %(entries)s entries, %(teams)s teams disqualified.",
                    n=number, entries=entries, teams=len(disqualified)), "info")  # fmt: skip

        upload_action(form, "text", LIST_LIMIT, _("list file"), screen)
        return back("organiser.blacklist")
    lists = desk().app.blacklist(contest.id).lists if contest else []
    return render_template("organiser/blacklist.html", form=form, contest=contest, lists=lists)


# --- the round: test sets and the debug phase ------------------------------------------------


class TestsetForm(FlaskForm):
    track = IntegerField(_l("Track"), validators=[DataRequired(), NumberRange(1, 8)])
    file = FileField(_l("Test set archive (.tar.gz or .zip)"))
    reason = StringField(_l("Reason (when replacing a set during the round)"),
                         validators=[Optional(), Length(max=2000)])  # fmt: skip
    public = BooleanField(_l("A public debug set"))


class DebugForm(FlaskForm):
    log_cap = IntegerField(_l("Bytes of a log a team may read"),
                           validators=[Optional(), NumberRange(min=1)])  # fmt: skip


@blueprint.route("/round")
@admits(Role.ORGANISER)
def round_page() -> Any:
    contest = the_contest()
    testsets, debug = {}, None
    if contest is not None:
        app = services().submissions
        testsets = app.testsets(contest.id).current
        debug = app.debug_phase(contest.id)
    return render_template(
        "organiser/round.html",
        contest=contest,
        testsets=testsets,
        debug=debug,
        form=TestsetForm(),
        debug_form=DebugForm(),
    )


@blueprint.route("/testsets", methods=["POST"])
@admits(Role.ORGANISER)
def add_testset_view() -> Any:
    form = TestsetForm()

    def add(path: Path) -> None:
        digest, cases = add_testset(
            round_desk(),
            require_contest(),
            form.track.data,
            path,
            current_user.actor,
            reason=form.reason.data or "",
            public=bool(form.public.data),
        )
        flash(_("Track %(t)s: test set %(sha)s with %(n)s cases is in force.",
                t=form.track.data, sha=digest, n=cases), "info")  # fmt: skip

    upload_action(form, "archive", TESTSET_LIMIT, _("test set"), add)
    return back("organiser.round_page")


@blueprint.route("/debug-phase/<any(open, close):step>", methods=["POST"])
@admits(Role.ORGANISER)
def debug_phase(step: str) -> Any:
    form = DebugForm()
    if checked(form):
        app, contest_id = services().submissions, require_contest().id
        with acting(_("The debug phase is open.") if step == "open" else
                    _("The debug phase is closed.")):  # fmt: skip
            if step == "open":
                cap = form.log_cap.data or DEFAULT_LOG_CAP
                app.open_debug_phase(
                    contest_id, actor=current_user.actor, now=desk().now, log_cap=cap
                )
            else:
                app.close_debug_phase(contest_id, actor=current_user.actor, now=desk().now)
    return back("organiser.round_page")


from web import organiser_judging, organiser_rq  # noqa: E402,F401  (their routes join the blueprint)
