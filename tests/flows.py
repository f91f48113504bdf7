"""The organiser's and a team's steps through the CLI, shared by the tests that need a contest
in a given state (an approved team, a hidden test set, a submission)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import yaml
from click.testing import CliRunner, Result
from pypdf import PdfWriter

from huiyan_cli import main
from scoring.baselines import bundle_path
from scoring.synth import make_dataset
from services.intake import invitation_token

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
REGISTRATION_TIME = "2026-06-20T10:00:00+08:00"
ROUND_TIME = "2026-08-03T10:00:00+08:00"


# Commands that record a decision with legal meaning: the harness signs them for the person.
SIGNING = {
    ("review", "approve"),
    ("review", "reject"),
    ("rules", "publish"),
    ("blacklist", "clear"),
    ("keys", "rotate"),
    ("keys", "revoke"),
    ("expert", "agreement"),
    ("expert", "sign-agreement"),
    ("expert", "declare"),
    ("judging", "score"),
    ("results", "publish"),
    ("appeal", "file"),
    ("appeal", "rule"),
    ("final", "advance"),
    ("final", "score"),
    ("final", "award"),
    ("retention", "shred"),
}
PRIVILEGED = {"organiser", "arbitrator", "compliance_officer", "audit_administrator"}
PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    login: str
    password: str
    totp_secret: str | None = None

    def code(self, clock: str) -> str | None:
        if self.totp_secret is None:
            return None
        return pyotp.TOTP(self.totp_secret).at(datetime.fromisoformat(clock))


class Huiyan:
    """``huiyan`` run in-process with one instance's environment, as one of its people.

    Each person has a session of their own (``HUIYAN_SESSION`` = their login); the harness
    signs them in whenever the clock moved since their last sign-in, and gives their password
    and TOTP code to the commands that sign."""

    def __init__(self, home: Path, database_url: str, redis_url: str = "") -> None:
        self.env = {
            "HUIYAN_HOME": str(home),
            "HUIYAN_DATABASE_URL": database_url,
            "HUIYAN_REDIS_URL": redis_url,
            "HUIYAN_CLOCK": ROUND_TIME,
        }
        self.people: dict[str, Person] = {}
        self.signed_in_at: dict[str, str] = {}

    def __call__(
        self,
        *args: str,
        clock: str = ROUND_TIME,
        stdin: str | None = None,
        who: str | None = "organiser",
    ) -> Result:
        person = self.people.get(who) if who else None
        if person is not None and self.signed_in_at.get(person.login) != clock:
            self.sign_in(person, clock)
        if person is not None and tuple(args[:2]) in SIGNING and stdin is None:
            code = person.code(clock)
            args = (*args, "--password-stdin", *(["--totp", code] if code else []))
            stdin = person.password + "\n"
        return self.raw(*args, clock=clock, stdin=stdin, session=who)

    def raw(
        self, *args: str, clock: str = ROUND_TIME, stdin: str | None = None, session: str | None
    ) -> Result:
        """One command exactly as given, in the named session."""
        env = dict(self.env, HUIYAN_CLOCK=clock, HUIYAN_SESSION=session or "nobody")
        return CliRunner().invoke(main, list(args), env=env, input=stdin)

    def ok(self, *args: str, **kwargs) -> str:
        """The command's result (stdout); what it tells the person (stderr) is not part of it."""
        result = self(*args, **kwargs)
        assert result.exit_code == 0, result.output or repr(result.exception)
        return result.stdout.strip()

    def own_password(self, person: Person, clock: str) -> None:
        """The person sets their own password (here: the same text), which gives an account
        someone else opened a key pair of its owner's own; it ends the session."""
        self.sign_in(person, clock)
        changed = self.raw("account", "password", "--password-stdin", clock=clock,
                           stdin=f"{person.password}\n{person.password}\n",
                           session=person.login)  # fmt: skip
        assert changed.exit_code == 0, changed.output
        self.signed_in_at.pop(person.login, None)

    def sign_in(self, person: Person, clock: str) -> None:
        code = person.code(clock)
        result = self.raw("login", "--login", person.login, "--password-stdin",
                          *(["--totp", code] if code else []), clock=clock,
                          stdin=person.password + "\n", session=person.login)  # fmt: skip
        assert result.exit_code == 0, result.output
        self.signed_in_at[person.login] = clock

    @property
    def home(self) -> Path:
        return Path(self.env["HUIYAN_HOME"])

    def own_account(self, login: str, *, clock: str = REGISTRATION_TIME) -> str:
        """A team member's own account, opened without anyone's help."""
        opened = self.ok("account", "open", "--login", login, "--name", login, "--email",
                         f"{login}@people.example", "--password-stdin",
                         stdin=f"{PASSWORD}\n{PASSWORD}\n", clock=clock, who=None)  # fmt: skip
        self.people[login] = Person(login, PASSWORD)
        return opened

    def token_for(self, email: str) -> str:
        """The token of the latest invitation e-mail to ``email`` (from the outbox)."""
        outbox = self.home / "outbox"
        messages = sorted(outbox.glob("*.txt"), key=lambda path: path.stat().st_mtime_ns)
        for message in reversed(messages):
            if message.read_text().startswith(f"To: {email}\n"):
                return invitation_token(message)
        raise AssertionError(f"no invitation to {email}")

    def account(self, login: str, role: str, *options: str, clock: str = REGISTRATION_TIME) -> str:
        """Opens an account (the first one is the bootstrap organiser); the person sets their
        own password and, in a privileged role, enrols their TOTP second factor at once.
        Returns the account id."""
        by = "organiser" if self.people else None
        opened = self.ok("account", "create", "--login", login, "--role", role, *options,
                         "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD}\n", clock=clock,
                         who=by)  # fmt: skip
        person = self.people[login] = Person(login, PASSWORD)
        if by is not None:
            self.own_password(person, clock)
        if role in PRIVILEGED:
            self.sign_in(person, clock)
            shown = self.raw("account", "enrol-totp", "--password-stdin", clock=clock,
                             stdin=PASSWORD + "\n", session=login)  # fmt: skip
            secret = parse_qs(urlparse(shown.output.splitlines()[0]).query)["secret"][0]
            person.totp_secret = secret
            code = person.code(clock)
            enrolled = self.raw("account", "enrol-totp", "--password-stdin", "--totp", code,
                                clock=clock, stdin=PASSWORD + "\n", session=login)  # fmt: skip
            assert enrolled.exit_code == 0, enrolled.output
            self.signed_in_at.pop(login, None)
        return opened


def form_team(huiyan: Huiyan, name: str, *, clock: str = REGISTRATION_TIME) -> str:
    """A team as its people make it: the leader (login ``lead-<name>``) opens an account and
    registers the team from docs/examples/team-<name>.yaml, which invites the others; each
    invited person (login = their member file's name, e.g. ``yongjiang-huang``) opens an
    account and accepts with their own member file. Returns the team id."""
    leader = f"lead-{name}"
    huiyan.own_account(leader, clock=clock)
    team_file = EXAMPLES / f"team-{name}.yaml"
    team = huiyan.ok("team", "register", "--file", str(team_file), who=leader, clock=clock)
    for member_file in sorted((EXAMPLES / "members").glob(f"{name}-*.yaml")):
        login = member_file.stem
        huiyan.own_account(login, clock=clock)
        email = yaml.safe_load(member_file.read_text())["email"]
        huiyan.ok("team", "accept", "--token", huiyan.token_for(email), "--file",
                  str(member_file), who=login, clock=clock)  # fmt: skip
    return team


def approved_team(huiyan: Huiyan) -> str:
    """The 2026 contest with its rules, and one team formed by its people and approved; its
    id."""
    at = {"clock": REGISTRATION_TIME}
    huiyan.account("organiser", "organiser")
    huiyan.ok("account", "create", "--login", "worker", "--role", "service", **at)
    huiyan.ok("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml"), **at)
    huiyan.ok("rules", "publish", "--file", str(EXAMPLES / "rules-2026.yaml"), **at)
    team = form_team(huiyan, "yongjiang")
    huiyan.ok("team", "submit", team, **at)
    huiyan.ok("review", "approve", team, **at)
    return team


def id_card(first17: str) -> str:
    """A resident ID number with its check character (GB 11643)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def blank_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def ready_to_submit(huiyan: Huiyan, work: Path, track: int = 7, cases: int = 8) -> str:
    """An approved team and the track's hidden test set in place; the team's id."""
    team = approved_team(huiyan)
    huiyan.ok("testset", "add", "--track", str(track), "--dir",
              str(make_dataset(track, cases, work / f"testset-{track}", 0)))  # fmt: skip
    return team


def submit(
    huiyan: Huiyan,
    team: str,
    work: Path,
    model: Path | None = None,
    track: int = 7,
    clock: str = ROUND_TIME,
) -> str:
    report = work / "report.pdf"
    if not report.exists():
        blank_pdf(report)
    model = model or bundle_path(track)
    return huiyan.ok("submit", "--team", team, "--track", str(track), "--model", str(model),
                     "--report", str(report), clock=clock)  # fmt: skip
