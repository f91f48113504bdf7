"""Issue 9, points 13-15: every hostile intake the red team tried, as one table.

Each row feeds one file (team.yaml, a member file, contest.yaml, blacklist CSV, PDF) or one
command to the ``huiyan`` CLI, as a signed-in organiser, team leader or newcomer would, and
expects: exit status 2, one line ``error: ...`` that names the field or the problem, and
nothing written: no event appended, no blob, key or model left behind. (The access log records
the refused attempt: that is its job, so its own stream is not counted.)

A team file holds its leader's own record; every other person gives theirs in the member file
they accept an invitation with. So a row about the leader registers a team, a row about another
member accepts an invitation, each as a newcomer: a team-member account of their own, opened for
the row, with no team (the refusal is then the file's, not "not permitted").
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from services.identity import id_card_check
from services.uploads import MAX_UPLOAD_BYTES
from tests import flows
from tests.flows import REGISTRATION_TIME, ROUND_TIME, Huiyan

EXAMPLES = flows.EXAMPLES
# The access log's own stream (audit/access_log.py): it records refused attempts by design.
ACCESS_TABLES = ("access_events", "accesslog_")
# People of the example teams, as registered in the world below.
YONGJIANG_LEADER = "450103199901010011"
# The row runs as a newcomer: a team-member account opened for the row alone, with no team.
NEWCOMER = "newcomer"


def id_card(first17: str) -> str:
    return first17 + id_card_check(first17)


FRESH_IDS = (id_card("11010519491231002"), id_card("11010519500101001"))
# The leader of Open Door, a registered team with an invitation open.
OPEN_DOOR_LEADER = id_card("11010519520202003")
INVITEE = "invitee@rows.example"


@dataclass
class World:
    huiyan: Huiyan
    root: Path
    yongjiang: str
    lijiang: str
    open_door: str
    token: str  # Open Door's open invitation: refused acceptances leave it open
    report: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    def written(self) -> dict[str, Any]:
        """Rows of every ledger table but the access log's, and every file under HUIYAN_HOME."""
        with sqlite3.connect(self.root / "ledger.sqlite3") as db:
            tables = [
                row[0]
                for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if not row[0].startswith(ACCESS_TABLES)
            ]
            rows = {
                table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in tables
            }
        files = sorted(
            str(path.relative_to(self.home)) for path in self.home.rglob("*") if path.is_file()
        )
        return {"rows": rows, "files": files}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    """The 2026 contest; Yongjiang approved with track 7's test set in place; Lijiang formed
    by its people (leader ``lead-lijiang``, Anna Berg by passport); Open Door registered by
    ``lead-open`` alone, with an invitation open."""
    root = tmp_path_factory.mktemp("intake")
    huiyan = Huiyan(root / "home", f"sqlite:///{root / 'ledger.sqlite3'}")
    yongjiang = flows.ready_to_submit(huiyan, root)
    lijiang = flows.form_team(huiyan, "lijiang")
    huiyan.own_account("lead-open")
    open_door_file = root / "open-door.yaml"
    open_door_file.write_text(
        yaml.safe_dump(
            team("Open Door", leader=member("Wang Fang", OPEN_DOOR_LEADER), invite=[INVITEE]),
            allow_unicode=True,
        )
    )
    open_door = huiyan.ok("team", "register", "--file", str(open_door_file),
                          who="lead-open", clock=REGISTRATION_TIME)  # fmt: skip
    report = flows.blank_pdf(root / "report.pdf")
    return World(huiyan, root, yongjiang, lijiang, open_door, huiyan.token_for(INVITEE), report)


def signed_in(huiyan: Huiyan, who: str, clock: str) -> None:
    """Signs ``who`` in at ``clock`` unless already: a row's own writes are then all that
    changes."""
    result = huiyan("whoami", clock=clock, who=who)
    assert result.exit_code == 0, result.output


# --- what the rows write -----------------------------------------------------------------------


def member(name: str, number: str, **extra: Any) -> dict[str, Any]:
    """One person's own record: a team file's leader, or a member file."""
    return {
        "name": name,
        "identity": {"type": "id_card", "number": number},
        "organisation": "Example University",
        **extra,
    }


def passport(name: str, country: str, number: str) -> dict[str, Any]:
    return {
        "name": name,
        "identity": {"type": "passport", "country": country, "number": number},
        "organisation": "Example Institute",
    }


def team(name: str = "Fresh Eyes", leader: dict | None = None, **extra: Any) -> dict[str, Any]:
    """Li Lei's team file: Li leads, Han Meimei is invited."""
    return {
        "contest": "huiyan-2026",
        "name": name,
        "language": "en",
        "leader": leader or member("Li Lei", FRESH_IDS[0]),
        "invite": ["han.meimei@fresh.example"],
        "tracks": [{"track": 7, "group": "self_built"}],
        **extra,
    }


def with_leader(**changes: Any) -> dict[str, Any]:
    document = team()
    document["leader"].update(changes)
    return document


def member_file(**changes: Any) -> dict[str, Any]:
    """Han Meimei's member file, with these changes."""
    return {**member("Han Meimei", FRESH_IDS[1]), **changes}


def pdf(*, script: bool = False, attachment: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if script:
        action = {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(
            DictionaryObject(action)
        )
    if attachment:
        writer.add_attachment("payload.exe", b"MZ")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class Folder:
    """One row's files."""

    def __init__(self, world: World, name: str) -> None:
        self.world, self.path = world, world.root / "rows" / name
        self.path.mkdir(parents=True)

    def bytes(self, name: str, data: bytes) -> str:
        (self.path / name).write_bytes(data)
        return str(self.path / name)

    def yaml(self, document: Any, name: str = "team.yaml") -> str:
        return self.bytes(name, yaml.safe_dump(document, allow_unicode=True).encode())

    def huge(self, name: str = "huge.pdf") -> str:
        """768 MiB that start like a PDF (a sparse file: nothing is written to the disk)."""
        with (self.path / name).open("wb") as stream:
            stream.write(b"%PDF-1.7\n")
            stream.truncate(768 * 1024 * 1024)
        return str(self.path / name)


def register(document: Any) -> Callable[[Folder], list[str]]:
    return lambda files: ["team", "register", "--file", files.yaml(document)]


def register_bytes(data: bytes) -> Callable[[Folder], list[str]]:
    return lambda files: ["team", "register", "--file", files.bytes("team.yaml", data)]


def accept(document: Any, token: str | None = None) -> Callable[[Folder], list[str]]:
    """Accepts Open Door's open invitation (or ``token``) with this member file."""
    return lambda files: [
        "team",
        "accept",
        "--token",
        token or files.world.token,
        "--file",
        files.yaml(document, "member.yaml"),
    ]


def accept_own_invitation(document: Any) -> Callable[[Folder], list[str]]:
    """Open Door's leader invites the row's newcomer (setup, before the snapshot); the
    newcomer accepts with this member file."""

    def args(files: Folder) -> list[str]:
        email = f"{files.path.name}@rows.example"
        files.world.huiyan.ok("team", "invite", files.world.open_door, "--email", email,
                              who="lead-open", clock=REGISTRATION_TIME)  # fmt: skip
        token = files.world.huiyan.token_for(email)
        return ["team", "accept", "--token", token, "--file", files.yaml(document, "member.yaml")]

    return args


def invite(email: str) -> Callable[[Folder], list[str]]:
    return lambda files: ["team", "invite", files.world.open_door, "--email", email]


def create_contest(text: str | bytes) -> Callable[[Folder], list[str]]:
    data = text.encode() if isinstance(text, str) else text
    return lambda files: ["contest", "create", "--file", files.bytes("contest.yaml", data)]


def import_list(data: bytes) -> Callable[[Folder], list[str]]:
    return lambda files: [
        "blacklist",
        "import",
        "--file",
        files.bytes("list.csv", data),
        "--source",
        "Credit China",
    ]


def upload(data: bytes) -> Callable[[Folder], list[str]]:
    return lambda files: [
        "team",
        "upload",
        files.world.lijiang,
        "identity_proof",
        files.bytes("scan.pdf", data),
    ]


def submit(report: Callable[[Folder], str]) -> Callable[[Folder], list[str]]:
    """Submits a model for Yongjiang on track 7 with this report."""

    def args(files: Folder) -> list[str]:
        bundle = files.path / "bundle"
        bundle.mkdir()
        (bundle / "predict.py").write_text("")
        return [
            "submit",
            "--team",
            files.world.yongjiang,
            "--track",
            "7",
            "--model",
            str(bundle),
            "--report",
            report(files),
        ]

    return args


def register_with_proof(proof: bytes) -> Callable[[Folder], list[str]]:
    def args(files: Folder) -> list[str]:
        files.bytes("proof.pdf", proof)
        return [
            "team",
            "register",
            "--file",
            files.yaml(team(documents={"identity_proof": ["proof.pdf"]})),
        ]

    return args


CONTEST = (EXAMPLES / "contest-2026.yaml").read_text(encoding="utf-8")
LATIN_1_TEAM = "contest: huiyan-2026\nname: Équipe Montréal\ninvite: []\n".encode("latin-1")
ALIAS_BOMB = b"contest: huiyan-2026\nname: &a [x, x, x, x, x, x, x, x, x]\ninvite: [*a, *a, *a]\n"
DUPLICATE_KEY = b"contest: huiyan-2026\nname: Twice\nleader: {name: A}\nleader: {name: B}\n"


@dataclass(frozen=True)
class Row:
    id: str
    args: Callable[[Folder], list[str]]
    expect: tuple[str, ...]
    clock: str = REGISTRATION_TIME
    huge: bool = False  # the file is 768 MiB: exactly the cap and one byte are read
    who: str = NEWCOMER  # the signed-in person who runs the command


def upload_huge(files: Folder) -> list[str]:
    return ["team", "upload", files.world.lijiang, "identity_proof", files.huge()]


MANY_PROBLEMS = {
    **with_leader(status=7, phon="+86 771 000 0002"),
    "language": "fr",
    "tracks": [{"track": True, "group": "Self Built"}],
}
# The contest file with one Latin-1 byte (é as 0xe9) among its UTF-8.
LATIN_1_CONTEST = (
    CONTEST.replace("en: Healthcare", "en: Santé").encode().replace("é".encode(), b"\xe9")
)
WRONG_TYPES_CONTEST = (
    CONTEST.replace("review_sla_days: 5", 'review_sla_days: "5"')
    .replace("  - id: 3\n", "  - id: three\n")
    .replace("total_per_track: 60", "total_per_track: 0")
)
BAD_LINES = (
    "organisation,credit_code\n,91450103MA5N2K3A0J\n某公司,123\n某\u202e公司,\n甲,乙,丙\n".encode()
)
FULL_WIDTH = {ord(digit): ord(digit) + 0xFEE0 for digit in "0123456789"}


def led_by(number: str) -> Callable[[Folder], list[str]]:
    """Registers a fresh team whose leader has this ID card number."""
    return register(team(leader=member("Li", number)))


# The leader is member 1; whoever accepts Open Door's invitation would be member 2.
TAKEN_1, TAKEN_2 = ("[team.person_taken]", "Member 1 is"), ("[team.person_taken]", "Member 2 is")
ORGANISER = "organiser"

# fmt: off
ROWS = [
    # 13. identity that cannot be dodged by Unicode
    Row("id-card-in-full-width-digits", led_by(YONGJIANG_LEADER.translate(FULL_WIDTH)), TAKEN_1),
    Row("id-card-with-spaces-and-joiner", led_by(" 450103\u200d1999 0101 0011 "), TAKEN_1),
    Row("passport-with-a-zero-width-space", accept(passport("Anna", "SE", "AB123\u200b4567")),
        TAKEN_2),
    Row("passport-country-alpha-3-for-alpha-2", accept(passport("Anna", "SWE", "ab1234567")),
        TAKEN_2),
    Row("passport-country-in-full-width", accept(passport("Anna", "ｓｅ", "ＡＢ1234567")), TAKEN_2),
    Row("id-card-with-a-wrong-check-digit", led_by("450103199901010012"),
        ("leader.identity.number", "does not match", "GB 11643-1999")),
    Row("id-card-in-arabic-indic-digits", led_by("٤٥٠١٠٣١٩٩٩٠١٠١٠٠١١"),
        ("leader.identity.number", "17 digits 0-9")),
    Row("id-card-without-a-birth-date", led_by(id_card("45010319991301001")),
        ("leader.identity.number", "birth date")),
    Row("passport-of-an-unknown-country", accept(passport("Anna", "XX", "AB7654321")),
        ("member.yaml: identity.country", "ISO 3166-1")),
    Row("passport-with-a-cyrillic-letter", accept(passport("Anna", "SE", "АB1234567")),
        ("member.yaml: identity.number", "letters A-Z and digits 0-9")),
    Row("chinese-passport-beside-the-resident-id", accept(passport("Wei", "CN", "E12345678")),
        ("member.yaml: identity: ", "resident ID card")),
    Row("leader-name-with-a-control-character", register(with_leader(name="Li\x07Lei")),
        ("leader.name", "U+0007")),
    Row("member-name-with-a-bidi-override", accept(member_file(name="Han\u202eiemieM")),
        ("member.yaml: name", "U+202E RIGHT-TO-LEFT OVERRIDE")),
    Row("organisation-with-a-zero-width-space",
        register(with_leader(organisation="南宁示例\u200b科技有限公司")),
        ("leader.organisation", "U+200B ZERO WIDTH SPACE")),
    Row("team-name-with-a-zero-width-space", register(team(name="Fresh\u200bEyes")),
        ("name: contains U+200B ZERO WIDTH SPACE",)),
    Row("team-name-with-a-bidi-isolate", register(team(name="\u2067Fresh Eyes\u2069")),
        ("name: contains U+2067 RIGHT-TO-LEFT ISOLATE",)),
    Row("team-name-blank-after-normalisation", register(team(name="\u3000 \u3000")),
        ("name: blank",)),
    Row("team-name-equal-after-normalisation", register(team(name="ＬＩＪＩＡＮＧ　vision")),
        ("[team.name_taken]", "already called ＬＩＪＩＡＮＧ")),
    Row("team-name-equal-but-for-spaces", register(team(name="邕 江 慧 影")),
        ("[team.name_taken]",)),
    # 14. strict, typed configuration
    Row("team-file-in-latin-1", register_bytes(LATIN_1_TEAM),
        ("(file): not UTF-8 (byte 0xc9",)),
    Row("track-seven", register(team(tracks=[{"track": "seven", "group": "self_built"}])),
        ("tracks[1].track: Input should be a valid integer, got the text 'seven'",)),
    Row("member-status-a-number", accept(member_file(status=7)),
        ("member.yaml: status: Input should be a valid string, got the number 7",)),
    Row("leader-organisation-code-a-list", register(with_leader(organisation_code=[1])),
        ("leader.organisation_code: Input should be a valid string, got a list",)),
    Row("team-name-a-mapping", register(team(name={"zh": "慧眼"})),
        ("name: Input should be a valid string, got a mapping",)),
    Row("team-name-a-number", register(team(name=7)),
        ("name: Input should be a valid string, got the number 7",)),
    Row("leader-name-a-mapping", register(with_leader(name={"first": "Li"})),
        ("leader.name: Input should be a valid string, got a mapping",)),
    Row("id-card-number-unquoted",
        register(with_leader(identity={"type": "id_card", "number": 450103199901010011})),
        ("leader.identity.number: Input should be a valid string, got the number",)),
    Row("every-problem-listed", register(MANY_PROBLEMS),
        ("5 problems", "language: Input should be 'zh' or 'en', got the text 'fr'",
         "leader.status: Input should be a valid string, got the number 7",
         "leader.phon: not a key of this file format",
         "tracks[1].track: Input should be a valid integer, got the boolean true",
         "tracks[1].group: String should match pattern")),
    Row("no-leader", register({"contest": "huiyan-2026", "name": "Alone"}),
        ("leader: missing",)),
    Row("invite-not-an-address", register(team(invite=["not an address"])),
        ("invite[1]: String should match pattern",)),
    Row("invite-more-than-a-team-holds",
        register(team(invite=[f"person{n}@fresh.example" for n in range(5)])),
        ("invite: List should have at most 4 items",)),
    Row("invite-command-not-an-address", invite("not an address"),
        ("--email: email: String should match pattern",), who="lead-open"),
    Row("member-file-with-an-unknown-key", accept(member_file(leader=True)),
        ("member.yaml: leader: not a key of this file format",)),
    Row("accept-with-an-unknown-token", accept(member_file(), token="not-a-token"),
        ("[team.invitation_not_found]",)),
    Row("not-a-mapping", register_bytes(b"- just\n- a list\n"),
        ("(file): expected a mapping at the top, got a list",)),
    Row("yaml-aliases", register_bytes(ALIAS_BOMB), ("aliases (*name) are refused",)),
    Row("yaml-duplicate-key", register_bytes(DUPLICATE_KEY), ("line 4", "duplicate key 'leader'")),
    Row("proof-outside-the-folder",
        register(team(documents={"identity_proof": ["../../../ledger.sqlite3"]})),
        ("documents.identity_proof", "outside the team file's folder")),
    Row("contest-file-in-latin-1", create_contest(LATIN_1_CONTEST),
        ("(file): not UTF-8 (byte 0xe9",), who=ORGANISER),
    Row("contest-with-wrong-types", create_contest(WRONG_TYPES_CONTEST),
        ("3 problems", "tracks[3].id: Input should be a valid integer, got the text 'three'",
         "calendar.review_sla_days: Input should be a valid integer, got the text '5'",
         "quota.total_per_track: Input should be greater than 0"), who=ORGANISER),
    Row("contest-time-that-is-a-date",
        create_contest(CONTEST.replace("19T00:00:00+08:00", "19")),
        ("calendar.final_end: expected a time, got a date",), who=ORGANISER),
    Row("blacklist-in-latin-1", import_list("organisation\nSociété Générale\n".encode("latin-1")),
        ("(file): not UTF-8",), who=ORGANISER),
    Row("blacklist-with-bad-lines", import_list(BAD_LINES),
        ("4 problems", "line 2.organisation: blank",
         "line 3.credit_code: a unified social credit code",
         "line 4.organisation: contains U+202E",
         "line 5: more fields than the 2 of the header"), who=ORGANISER),
    Row("blacklist-with-a-nul-byte", import_list(b"organisation\nx\x00y\n"),
        ("line 2.organisation: contains U+0000",), who=ORGANISER),
    Row("blacklist-with-a-huge-field", import_list(b'organisation\n"' + b"x" * 200_000 + b'"\n'),
        ("not CSV: field larger than field limit",), who=ORGANISER),
    # 15. documents
    Row("upload-with-javascript", upload(pdf(script=True)),
        ("[upload.script]", "scan.pdf", "JavaScript"), who="lead-lijiang"),
    Row("upload-with-an-embedded-file", upload(pdf(attachment=True)),
        ("[upload.embedded_file]", "scan.pdf"), who="lead-lijiang"),
    Row("identity-proof-with-javascript", register_with_proof(pdf(script=True)),
        ("[upload.script]", "proof.pdf")),
    Row("upload-of-768-mib", upload_huge,
        ("[upload.too_large]", "huge.pdf", f"limit of {MAX_UPLOAD_BYTES} bytes"), huge=True,
        who="lead-lijiang"),
    Row("report-of-768-mib", submit(lambda files: files.huge()),
        ("[upload.too_large]", "huge.pdf"), clock=ROUND_TIME, huge=True, who=ORGANISER),
    Row("report-with-javascript", submit(lambda files: files.bytes("report.pdf", pdf(script=True))),
        ("[upload.script]", "report.pdf"), clock=ROUND_TIME, who=ORGANISER),
    Row("leader-submits-for-another-team",
        submit(lambda files: str(files.world.report)),
        ("[team.not_yours]", "is not yours"), clock=ROUND_TIME, who="lead-lijiang"),
    # A refusal after the record was sealed: the sealed blob goes too.
    Row("refused-member-join-leaves-no-record",
        accept_own_invitation(member("Wang Fang", OPEN_DOOR_LEADER)), ("[team.member_twice]",)),
]
# fmt: on


class CountingReads:
    """Wraps ``Path.open`` to count the bytes read from files named huge.pdf."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read = 0
        opened = Path.open
        counter = self

        class Counted(io.BufferedReader):
            def read(self, size: int | None = -1) -> bytes:
                data = super().read(size)
                counter.read += len(data)
                return data

        def counting_open(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if path.name == "huge.pdf" and mode == "rb":
                return Counted(io.FileIO(path, "r"))
            return opened(path, mode, *args, **kwargs)

        monkeypatch.setattr(Path, "open", counting_open)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_intake_is_refused_by_name_and_writes_nothing(world, row, monkeypatch):
    files = Folder(world, row.id)
    who = row.who
    if who == NEWCOMER:
        who = f"new-{row.id}"
        world.huiyan.own_account(who)
    args = row.args(files)  # a row's own setup (an invitation, say) is made before the snapshot
    reads = CountingReads(monkeypatch)
    signed_in(world.huiyan, who, row.clock)  # the session exists before the row runs
    before = world.written()
    result = world.huiyan(*args, clock=row.clock, who=who)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in row.expect:
        assert needle in lines[0], lines[0]
    assert world.written() == before
    assert reads.read == (MAX_UPLOAD_BYTES + 1 if row.huge else 0)
