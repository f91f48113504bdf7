"""The team pages (docs/web/team.md): sign-up, the registration of a team and its review,
submissions with their live status, results with their ledger proofs, and appeals.

Every page calls the same services as the CLI (``huiyan account open``, ``team ...``,
``submit``, ``team status``, ``results mine``, ``appeal ...``): this module only turns form
fields into their arguments and their answers into pages. The routes of the round and of the
results live in web/team_round.py and web/team_results.py, on this same blueprint.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    HiddenField,
    MultipleFileField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from domain.accounts import Role
from domain.contest import CALLED_DOCUMENTS, IDENTITY_PROOF, Contest
from domain.teams import EDITABLE, Status, Team
from services import intake, strict_files
from services.errors import ServiceRefused
from services.own_account import open_own_account
from services.refusals import REFUSALS
from services.team_documents import attach_documents
from services.uploads import MAX_UPLOAD_BYTES
from web.access import PUBLIC, admits
from web.context import desk, services
from web.errors import refusal
from web.uploads import received

blueprint = Blueprint("team", __name__, url_prefix="/team")

MAX_FILES = 10  # PDFs merged into one document


# --- shared helpers ----------------------------------------------------------------------------


def refused(error: BaseException, what: str) -> None:
    """A refusal beside the form, in the page's language: what was refused, and why."""
    flash(_("%(what)s refused: %(why)s", what=what, why=refusal(error)), "error")


def form_problems(form: FlaskForm) -> None:
    for field in form:
        for problem in field.errors:
            flash(f"{field.label.text}: {problem}", "error")


def contest() -> Contest:
    return desk().contest(None)


def own_team() -> Team | None:
    team_id = current_user.team_id
    return None if team_id is None else services().registration.team(team_id)


def received_pdfs(files: list[FileStorage], what: str) -> ExitStack:
    """Each chosen PDF on disk for the length of the ``with`` block; ``stack.paths`` lists
    them in the order they were chosen."""
    chosen = [upload for upload in files if upload and upload.filename]
    if not chosen:
        raise ServiceRefused(_("%(what)s: no file was chosen", what=what))
    if len(chosen) > MAX_FILES:
        raise ServiceRefused(_("%(what)s: at most %(n)d files", what=what, n=MAX_FILES))
    stack = ExitStack()
    try:
        stack.paths = [  # type: ignore[attr-defined]
            stack.enter_context(received(upload, "pdf", limit=MAX_UPLOAD_BYTES, what=what))
            for upload in chosen
        ]
    except BaseException:
        stack.close()
        raise
    return stack


def problems_of(error: strict_files.FileInvalid, labels: dict[str, str]) -> str:
    """A form's schema problems with each field path named by its label."""
    return "; ".join(f"{labels.get(where, where)}: {what}" for where, what in error.problems)


# --- sign-up -----------------------------------------------------------------------------------


class SignUpForm(FlaskForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Your name, as printed"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(_l("Telephone (optional)"), validators=[Optional(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


@blueprint.route("/sign-up", methods=["GET", "POST"])
@admits(PUBLIC)
def sign_up() -> Any:
    """Anyone opens their own team-member account, as ``huiyan account open`` does."""
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            open_own_account(
                desk(),
                login=form.login.data.strip(),
                name=form.name.data,
                email=form.email.data.strip(),
                phone=form.phone.data or None,
                password=form.password.data,
                source=_("the sign-up form"),
            )
        except REFUSALS as error:
            refused(error, _("Sign-up"))
        else:
            flash(_("Your account is open: sign in with it."), "info")
            return redirect(url_for("auth.sign_in", next=url_for("team.index")))
    elif request.method == "POST":
        form_problems(form)
    return render_template("team/sign_up.html", form=form)


# --- the team's page ----------------------------------------------------------------------------


class MemberFields(FlaskForm):
    """One person's own record (intake.MemberSpec), as form fields."""

    person = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    id_type = SelectField(
        _l("Identity document"),
        choices=[("id_card", _l("Resident ID card")), ("passport", _l("Passport"))],
    )
    id_country = StringField(
        _l("Issuing country (passport only)"), validators=[Optional(), Length(max=64)]
    )
    id_number = StringField(_l("Document number"), validators=[DataRequired(), Length(max=64)])
    organisation = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=200)])
    organisation_code = StringField(
        _l("Unified social credit code (optional)"), validators=[Optional(), Length(max=64)]
    )
    phone = StringField(_l("Telephone (optional)"), validators=[Optional(), Length(max=64)])
    email = StringField(_l("E-mail (optional)"), validators=[Optional(), Length(max=254)])
    status = StringField(
        _l("Status, e.g. student or teacher (optional)"), validators=[Optional(), Length(max=200)]
    )

    def record(self) -> dict[str, Any]:
        """The fields as the member file's mapping, for the same schema to check."""
        identity = {"type": self.id_type.data, "number": self.id_number.data or ""}
        if self.id_country.data:
            identity["country"] = self.id_country.data
        record: dict[str, Any] = {
            "name": self.person.data or "",
            "identity": identity,
            "organisation": self.organisation.data or "",
        }
        for key in ("organisation_code", "phone", "email", "status"):
            if getattr(self, key).data:
                record[key] = getattr(self, key).data
        return record

    def labels(self, prefix: str = "") -> dict[str, str]:
        """Schema field paths named by this form's labels."""
        named = {
            "name": self.person,
            "identity": self.id_type,
            "identity.type": self.id_type,
            "identity.country": self.id_country,
            "identity.number": self.id_number,
            "organisation": self.organisation,
            "organisation_code": self.organisation_code,
            "phone": self.phone,
            "email": self.email,
            "status": self.status,
        }
        return {f"{prefix}{path}": str(field.label.text) for path, field in named.items()}


class RegisterForm(MemberFields):
    team_name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(
        _l("Team language (locked once chosen)"),
        choices=[("", _l("Choose later")), ("zh", "中文"), ("en", "English")],
        validators=[Optional()],
    )
    entry = SelectField(_l("Track and group"), validators=[Optional()])
    identity_proof = MultipleFileField(_l("Identity proof (PDF; several are merged in order)"))


def track_choices(found: Contest, language: str) -> list[tuple[str, str]]:
    """Every (track, group) of the contest, named in the page's language."""
    groups = {group["id"]: group["name"] for group in found.groups}
    choices = []
    for track in found.tracks:
        for group in track["groups"]:
            name = track["name"].get(language) or track["name"].get("zh", "")
            group_name = groups.get(group, {}).get(language) or group
            choices.append((f"{track['id']}:{group}", f"{track['id']} · {name} · {group_name}"))
    return choices


def _entry(value: str | None) -> list[dict[str, Any]]:
    if not value or ":" not in value:
        return []
    track, group = value.split(":", 1)
    return [{"track": int(track) if track.isdigit() else track, "group": group}]


@blueprint.route("/")
@admits(Role.TEAM_MEMBER)
def index() -> Any:
    """The team's registration and its review, in sections; or, without a team, the two ways
    into one."""
    team = own_team()
    if team is None:
        return render_template("team/no_team.html")
    found = contest()
    return render_template(
        "team/index.html",
        team=team,
        contest=found,
        editable=team.status in EDITABLE,
        leader=current_user.account.leader,
        rejection=_last_rejection(team),
        choices=track_choices(found, _page_language()),
        called=CALLED_DOCUMENTS if found.documents_called_at else (),
        identity_proof=IDENTITY_PROOF,
        status=Status,
        language_form=LanguageForm(),
        track_form=TrackForm(choices=track_choices(found, _page_language())),
        invite_form=InviteForm(),
        documents_form=DocumentsForm(),
        action_form=ActionForm(),
    )


def _page_language() -> str:
    from web.i18n import language

    return language()


def _last_rejection(team: Team) -> dict[str, Any] | None:
    if team.status is not Status.REJECTED or not team.decisions:
        return None
    return team.decisions[-1]


@blueprint.route("/register", methods=["GET", "POST"])
@admits(Role.TEAM_MEMBER)
def register() -> Any:
    """Step one: the team, its language, a track, the leader's own record and identity proof
    (``huiyan team register``); the leader then invites the others from the team's page."""
    if current_user.team_id is not None:
        flash(_("You are in a team already."), "info")
        return redirect(url_for("team.index"))
    found = contest()
    form = RegisterForm()
    form.entry.choices = [("", _l("Choose later")), *track_choices(found, _page_language())]
    if form.validate_on_submit():
        try:
            team_id = _register(form, found)
        except strict_files.FileInvalid as error:
            labels = form.labels("leader.") | {
                "name": str(form.team_name.label.text),
                "language": str(form.language.label.text),
                "tracks": str(form.entry.label.text),
            }
            flash(_("Please correct: %(problems)s", problems=problems_of(error, labels)), "error")
        except REFUSALS as error:
            refused(error, _("Registration"))
        else:
            flash(_("Your team is registered; you lead it."), "info")
            return redirect(url_for("team.index", _anchor="members", registered=team_id))
    elif request.method == "POST":
        form_problems(form)
    return render_template("team/register.html", form=form)


def _register(form: RegisterForm, found: Contest) -> Any:
    document = {
        "contest": found.slug,
        "name": form.team_name.data,
        "leader": form.record(),
        "tracks": _entry(form.entry.data),
    }
    if form.language.data:
        document["language"] = form.language.data
    spec = strict_files.validated(Path(_("the registration form")), intake.TeamSpec, document)
    files = [upload for upload in form.identity_proof.data or [] if upload and upload.filename]
    with ExitStack() as stack:
        paths: list[Path] = []
        if files:
            paths = stack.enter_context(received_pdfs(files, _("Identity proof"))).paths
        team = intake.TeamFile(
            path=Path("web"),
            contest=spec.contest,
            name=spec.name,
            language=spec.language,
            leader=spec.leader,
            invite=[],
            tracks=tuple((entry.track, entry.group) for entry in spec.tracks),
            identity_proof=paths,
        )
        d = desk()
        return intake.register_team(
            d.app, team, vault=d.vault, blobs=d.blobs, actor=current_user.actor, now=d.now
        )


# --- the sections' own forms -------------------------------------------------------------------


class LanguageForm(FlaskForm):
    language = SelectField(_l("Team language"), choices=[("zh", "中文"), ("en", "English")])


class TrackForm(FlaskForm):
    entry = SelectField(_l("Track and group"), validators=[DataRequired()])

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.entry.choices = choices or []


class InviteForm(FlaskForm):
    email = StringField(_l("E-mail of the person to invite"), validators=[DataRequired()])


class DocumentsForm(FlaskForm):
    kind = HiddenField(default=IDENTITY_PROOF, validators=[DataRequired()])
    files = MultipleFileField(_l("PDF files (merged in order)"))


class ActionForm(FlaskForm):
    """A button that acts on the registration (submit, withdraw); it needs its confirmation."""

    confirm = HiddenField(validators=[DataRequired()])


def _team_action(form: FlaskForm, what: str, act: Any) -> Any:
    """Runs ``act(team_id)`` for the signed-in person's team; a refusal is shown on the team's
    page."""
    team_id = current_user.team_id
    if team_id is None:
        flash(_("You are not in a team yet."), "error")
        return redirect(url_for("team.index"))
    if not form.validate_on_submit():
        form_problems(form)
        flash(_("%(what)s: the form was incomplete; nothing was changed.", what=what), "error")
        return redirect(url_for("team.index"))
    try:
        act(team_id)
    except strict_files.FileInvalid as error:
        flash(_("Please correct: %(problems)s", problems=problems_of(error, {})), "error")
    except REFUSALS as error:
        refused(error, what)
    else:
        flash(_("%(what)s: done.", what=what), "info")
    return redirect(url_for("team.index"))


@blueprint.route("/language", methods=["POST"])
@admits(Role.TEAM_MEMBER)
def choose_language() -> Any:
    form = LanguageForm()
    d = desk()
    return _team_action(
        form,
        _("Choosing the language"),
        lambda team_id: d.app.choose_language(
            team_id, form.language.data, actor=current_user.actor, now=d.now
        ),
    )


@blueprint.route("/tracks", methods=["POST"])
@admits(Role.TEAM_MEMBER)
def enter_track() -> Any:
    form = TrackForm(choices=track_choices(contest(), _page_language()))
    d = desk()

    def enter(team_id: Any) -> None:
        (entry,) = _entry(form.entry.data)
        d.app.enter_track(
            team_id, entry["track"], entry["group"], actor=current_user.actor, now=d.now
        )

    return _team_action(form, _("Entering the track"), enter)


@blueprint.route("/invite", methods=["POST"])
@admits(Role.TEAM_MEMBER)
def invite() -> Any:
    """The leader invites someone by e-mail (``huiyan team invite``)."""
    form = InviteForm()
    d = desk()

    def send(team_id: Any) -> None:
        checked = strict_files.validated(
            Path(_("the invitation form")), intake.EmailSpec, {"email": form.email.data}
        )
        intake.invite(
            d.app,
            team_id,
            checked.email,
            vault=d.vault,
            outbox=d.settings.home / "outbox",
            actor=current_user.actor,
            now=d.now,
        )

    return _team_action(form, _("Invitation"), send)


@blueprint.route("/documents", methods=["POST"])
@admits(Role.TEAM_MEMBER)
def upload_documents() -> Any:
    """The identity proof (several PDFs merged), or a document the organiser called for
    (``huiyan team upload``)."""
    form = DocumentsForm()
    d = desk()

    def attach(team_id: Any) -> None:
        with received_pdfs(form.files.data or [], _("Document")) as stack:
            attach_documents(d, team_id, form.kind.data, stack.paths, current_user.actor)

    return _team_action(form, _("Upload"), attach)


@blueprint.route("/submit-registration", methods=["POST"])
@admits(Role.TEAM_MEMBER)
def submit_registration() -> Any:
    """For review: the first time, after a rejection, or after a withdrawal to change it."""
    d = desk()
    return _team_action(
        ActionForm(),
        _("Submitting for review"),
        lambda team_id: d.app.submit(team_id, actor=current_user.actor, now=d.now),
    )


@blueprint.route("/withdraw", methods=["POST"])
@admits(Role.TEAM_MEMBER)
def withdraw() -> Any:
    d = desk()
    return _team_action(
        ActionForm(),
        _("Withdrawing the registration"),
        lambda team_id: d.app.withdraw(team_id, actor=current_user.actor, now=d.now),
    )


class AcceptForm(MemberFields):
    token = StringField(_l("Token from the invitation"), validators=[DataRequired()])


@blueprint.route("/accept", methods=["GET", "POST"])
@admits(Role.TEAM_MEMBER)
def accept() -> Any:
    """The invited person joins with their own record (``huiyan team accept``)."""
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            member = strict_files.validated(
                Path(_("the acceptance form")), intake.MemberSpec, form.record()
            )
            d = desk()
            intake.accept(
                d.app,
                form.token.data.strip(),
                member,
                vault=d.vault,
                blobs=d.blobs,
                actor=current_user.actor,
                now=d.now,
            )
        except strict_files.FileInvalid as error:
            flash(
                _("Please correct: %(problems)s", problems=problems_of(error, form.labels())),
                "error",
            )
        except REFUSALS as error:
            refused(error, _("Joining the team"))
        else:
            flash(_("You joined the team."), "info")
            return redirect(url_for("team.index"))
    elif request.method == "POST":
        form_problems(form)
    return render_template("team/accept.html", form=form)


from web import team_results, team_round  # noqa: E402, F401 - their routes, on this blueprint
