"""A whole preliminary round and its judging through the CLI, shared by the judging tests:
three teams in track 7, their baselines run and scored in the sandbox, four experts and two
arbitrators enrolled with their agreements and declarations, the review prepared, graded and
published. Built once per test module (the sandboxed runs take a while)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import yaml
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from scoring.synth import make_dataset
from tests.flows import EXAMPLES, REGISTRATION_TIME, Huiyan, form_team, submit

TRACK = "7"
JUDGING_TIME = "2026-10-02T10:00:00+08:00"
APPEAL_TIME = "2026-10-04T10:00:00+08:00"
FINAL_TIME = "2026-10-13T10:00:00+08:00"
TEAMS = ("yongjiang", "lijiang", "beibu")
EXPERTS = ("expert-a", "expert-b", "expert-c", "expert-d")
ARBITRATORS = ("arbiter-x", "arbiter-y")
# expert-d works for lijiang's leader's organisation; arbiter-y declared a tie to yongjiang's.
EXPERT_ORGANISATIONS = {"expert-d": "桂林示例科技有限公司"}
ARBITER_TIES = {"arbiter-y": ["广西示例大学"]}


@dataclass
class JudgedContest:
    huiyan: Huiyan
    work: Path
    teams: dict[str, str] = field(default_factory=dict)  # name -> team id
    submissions: dict[str, str] = field(default_factory=dict)  # name -> submission id
    secrets: list[str] = field(default_factory=list)  # what no expert may ever see
    prepared: list[dict] = field(default_factory=list)

    def ok(self, *args: str, **kwargs) -> str:
        return self.huiyan.ok(*args, **kwargs)

    def signed(self, *args: str, who: str = "organiser", clock: str) -> str:
        """A judging act: refused, with nothing recorded, under a wrong password; then done
        with the person's own."""
        huiyan, before = self.huiyan, self.ledger_size()
        privileged = huiyan.people[who].totp_secret is not None
        wrong = huiyan(*args, "--password-stdin", *(["--totp", "000000"] if privileged else []),
                       stdin="not my password\n", who=who, clock=clock)  # fmt: skip
        assert wrong.exit_code == 2 and "error:" in wrong.output, wrong.output
        assert self.ledger_size() == before
        return huiyan.ok(*args, who=who, clock=clock)

    def ledger_size(self) -> int:
        engine = sa.create_engine(self.huiyan.env["HUIYAN_DATABASE_URL"])
        with engine.connect() as conn:
            size = conn.execute(sa.text("SELECT count(*) FROM ledger_events")).scalar_one()
        engine.dispose()
        return size


def report_pdf(path: Path, *, author: str, body: str) -> Path:
    """A technical report as a team's word processor leaves it: an author in its metadata
    and a page of text (Chinese included)."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    page.setAuthor(author)
    page.setTitle(f"Technical report by {author}")
    page.setFont("STSong-Light", 12)
    for line_number, line in enumerate(body.splitlines()):
        page.drawString(72, 760 - 18 * line_number, line)
    page.showPage()
    page.save()
    return path


def member_names(team: str) -> list[str]:
    spec = yaml.safe_load((EXAMPLES / f"team-{team}.yaml").read_text())
    names = [spec["name"], spec["leader"]["name"], spec["leader"]["organisation"]]
    for path in sorted((EXAMPLES / "members").glob(f"{team}-*.yaml")):
        member = yaml.safe_load(path.read_text())
        names += [member["name"], member["organisation"]]
    return names


def enrol_panel(contest: JudgedContest, *, declaring_later: tuple[str, ...] = ()) -> None:
    """The panel enrolled, each with the agreement signed and ties declared, except those in
    ``declaring_later`` (who do both themselves, e.g. in the browser)."""
    huiyan, work = contest.huiyan, contest.work
    at = {"clock": REGISTRATION_TIME}
    agreement = work / "agreement.txt"
    agreement.write_text("保密协议 / confidentiality agreement: no data leaves the platform.\n")
    contest.ok("expert", "agreement", "--file", str(agreement), **at)
    for login in (*EXPERTS, *ARBITRATORS):
        role = "expert" if login in EXPERTS else "arbitrator"
        huiyan.account(login, role, "--name", f"Panel {login}", **at)
        organisation = EXPERT_ORGANISATIONS.get(login, "邕江医学评审中心")
        contest.ok(
            "expert", "enrol", login, "--field", "超声", "--organisation", organisation, **at
        )
        if login in declaring_later:
            continue
        contest.ok("expert", "sign-agreement", who=login, **at)
        ties = work / f"ties-{login}.yaml"
        ties.write_text(yaml.safe_dump({"organisations": ARBITER_TIES.get(login, [])},
                                       allow_unicode=True))  # fmt: skip
        contest.ok("expert", "declare", "--file", str(ties), who=login, **at)


def build(
    huiyan: Huiyan,
    work: Path,
    teams: tuple[str, ...] = TEAMS,
    *,
    declaring_later: tuple[str, ...] = (),
) -> JudgedContest:
    """Every team of ``teams`` approved in track 7, the panel enrolled (enrol_panel), the
    track's hidden test set, and each team's baseline run and scored; nothing reviewed yet."""
    contest = JudgedContest(huiyan, work)
    at = {"clock": REGISTRATION_TIME}
    huiyan.account("organiser", "organiser")
    contest.ok("account", "create", "--login", "worker", "--role", "service", **at)
    contest.ok("contest", "create", "--file", str(EXAMPLES / "contest-2026.yaml"), **at)
    contest.ok("rules", "publish", "--file", str(EXAMPLES / "rules-2026.yaml"), **at)
    for name in teams:
        team = form_team(huiyan, name)
        if name != "yongjiang":
            contest.ok("team", "enter", team, "--track", TRACK, "--group", "self_built",
                       who=f"lead-{name}", **at)  # fmt: skip
        contest.ok("team", "submit", team, **at)
        contest.ok("review", "approve", team, **at)
        contest.teams[name] = team
        contest.secrets += [*member_names(name), team]
    enrol_panel(contest, declaring_later=declaring_later)
    contest.ok("testset", "add", "--track", TRACK, "--dir",
               str(make_dataset(7, 6, work / "testset-7", 0)))  # fmt: skip
    reports = {
        # the author is in the metadata only: the sanitiser strips it, the report is clean
        "yongjiang": report_pdf(work / "yongjiang.pdf", author="韦明远 (邕江慧影 leader)",
                                body="甲状腺结节分类方法\nA ResNet on B-mode ultrasound."),
        "lijiang": report_pdf(work / "lijiang.pdf", author="Chen Yu",
                              body="Thyroid nodules\nAn ensemble of gradient boosted trees."),
        # a member's name in the text: held until the team sends a clean report
        "beibu": report_pdf(work / "beibu.pdf", author="",
                            body="致谢：感谢 莫一帆 的标注工作。\nA U-Net with a classifier head."),
    }  # fmt: skip
    for name, team in contest.teams.items():
        (work / name).mkdir()
        (work / name / "report.pdf").write_bytes(reports[name].read_bytes())
        contest.submissions[name] = submit(huiyan, team, work / name)
    dispatched = contest.ok("dispatcher", "--once")
    assert dispatched.startswith(f"dispatched {2 * len(teams)} events"), dispatched
    return contest


def prepare(contest: JudgedContest) -> list[dict]:
    return json.loads(contest.ok("judging", "prepare", "--track", TRACK, clock=JUDGING_TIME))
