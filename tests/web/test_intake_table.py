"""Issue 9, points 13-15: every hostile intake the red team tried, as one table.

Each row feeds one file (team.yaml, contest.yaml, blacklist CSV, PDF) or one command to the
``huiyan`` CLI, as a signed-in organiser or team leader would, and expects: exit status 2,
one line ``error: ...`` that names the field or the problem, and nothing written: no event
appended, no blob, key or model left behind. (The access log records the refused attempt: that
is its job, so its own stream is not counted.)
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

from tests import flows
from tests.flows import REGISTRATION_TIME, ROUND_TIME, Huiyan
from web.identity import id_card_check
from web.uploads import MAX_UPLOAD_BYTES

EXAMPLES = flows.EXAMPLES
# The access log's own stream (audit/access_log.py): it records refused attempts by design.
ACCESS_TABLES = ("access_events", "accesslog_")
# People of the example teams, as registered in the world below.
YONGJIANG_LEADER = "450103199901010011"


def id_card(first17: str) -> str:
    return first17 + id_card_check(first17)


FRESH_IDS = (id_card("11010519491231002"), id_card("11010519500101001"))


@dataclass
class World:
    huiyan: Huiyan
    root: Path
    yongjiang: str
    lijiang: str
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
    """The 2026 contest; Yongjiang approved with track 7's test set in place; Lijiang
    registered, with a leader account of its own."""
    root = tmp_path_factory.mktemp("intake")
    huiyan = Huiyan(root / "home", f"sqlite:///{root / 'ledger.sqlite3'}")
    yongjiang = flows.ready_to_submit(huiyan, root)
    at = {"clock": REGISTRATION_TIME}
    lijiang = huiyan.ok("team", "register", "--file", str(EXAMPLES / "team-lijiang.yaml"), **at)
    huiyan.account("lead-lijiang", "team_member", "--team", lijiang, "--leader")
    report = flows.blank_pdf(root / "report.pdf")
    return World(huiyan, root, yongjiang, lijiang, report)


def signed_in(huiyan: Huiyan, who: str, clock: str) -> None:
    """Signs ``who`` in at ``clock`` unless already: a row's own writes are then all that
    changes."""
    result = huiyan("whoami", clock=clock, who=who)
    assert result.exit_code == 0, result.output


# --- what the rows write -----------------------------------------------------------------------


def member(name: str, number: str, *, leader: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "leader": leader,
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


def team(name: str = "Fresh Eyes", members: list | None = None, **extra: Any) -> dict[str, Any]:
    members = members or [
        member("Li Lei", FRESH_IDS[0], leader=True),
        member("Han Meimei", FRESH_IDS[1]),
    ]
    return {
        "contest": "huiyan-2026",
        "name": name,
        "language": "en",
        "members": members,
        "tracks": [{"track": 7, "group": "self_built"}],
        **extra,
    }


def with_member(index: int, **changes: Any) -> dict[str, Any]:
    document = team()
    document["members"][index].update(changes)
    return document


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
LATIN_1_TEAM = "contest: huiyan-2026\nname: Équipe Montréal\nmembers: []\n".encode("latin-1")
ALIAS_BOMB = b"contest: huiyan-2026\nname: &a [x, x, x, x, x, x, x, x, x]\nmembers: [*a, *a, *a]\n"
DUPLICATE_KEY = (
    b"contest: huiyan-2026\nname: Twice\nmembers:\n  - {name: A, leader: true, leader: false}\n"
)


@dataclass(frozen=True)
class Row:
    id: str
    args: Callable[[Folder], list[str]]
    expect: tuple[str, ...]
    clock: str = REGISTRATION_TIME
    huge: bool = False  # the file is 768 MiB: exactly the cap and one byte are read
    who: str = "organiser"  # the signed-in person who runs the command


def upload_huge(files: Folder) -> list[str]:
    return ["team", "upload", files.world.lijiang, "identity_proof", files.huge()]


def change_members(document: Any) -> Callable[[Folder], list[str]]:
    return lambda files: ["team", "members", files.world.yongjiang, "--file", files.yaml(document)]


MANY_PROBLEMS = {
    **with_member(1, leader="false", leadr=True),
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


def pair(first: dict[str, Any], second: dict[str, Any]) -> Callable[[Folder], list[str]]:
    """Registers a fresh team of these two people."""
    return register(team(members=[first, second]))


def leader(number: str) -> dict[str, Any]:
    return member("Li", number, leader=True)


LEADER, SECOND = leader(FRESH_IDS[0]), member("Han", FRESH_IDS[1])
TAKEN_1, TAKEN_2 = ("[team.person_taken]", "Member 1 is"), ("[team.person_taken]", "Member 2 is")

# fmt: off
ROWS = [
    # 13. identity that cannot be dodged by Unicode
    Row("id-card-in-full-width-digits",
        pair(leader(YONGJIANG_LEADER.translate(FULL_WIDTH)), SECOND), TAKEN_1),
    Row("id-card-with-spaces-and-joiner",
        pair(leader(" 450103\u200d1999 0101 0011 "), SECOND), TAKEN_1),
    Row("passport-with-a-zero-width-space",
        pair(LEADER, passport("Anna", "SE", "AB123\u200b4567")), TAKEN_2),
    Row("passport-country-alpha-3-for-alpha-2",
        pair(LEADER, passport("Anna", "SWE", "ab1234567")), TAKEN_2),
    Row("passport-country-in-full-width",
        pair(LEADER, passport("Anna", "ｓｅ", "ＡＢ1234567")), TAKEN_2),
    Row("id-card-with-a-wrong-check-digit", pair(leader("450103199901010012"), SECOND),
        ("members[1].identity.number", "does not match", "GB 11643-1999")),
    Row("id-card-in-arabic-indic-digits", pair(leader("٤٥٠١٠٣١٩٩٩٠١٠١٠٠١١"), SECOND),
        ("members[1].identity.number", "17 digits 0-9")),
    Row("id-card-without-a-birth-date", pair(leader(id_card("45010319991301001")), SECOND),
        ("members[1].identity.number", "birth date")),
    Row("passport-of-an-unknown-country", pair(LEADER, passport("Anna", "XX", "AB7654321")),
        ("members[2].identity.country", "ISO 3166-1")),
    Row("passport-with-a-cyrillic-letter", pair(LEADER, passport("Anna", "SE", "АB1234567")),
        ("members[2].identity.number", "letters A-Z and digits 0-9")),
    Row("chinese-passport-beside-the-resident-id", pair(LEADER, passport("Wei", "CN", "E12345678")),
        ("members[2].identity", "resident ID card")),
    Row("member-name-with-a-control-character", register(with_member(0, name="Li\x07Lei")),
        ("members[1].name", "U+0007")),
    Row("member-name-with-a-bidi-override", register(with_member(1, name="Han\u202eiemieM")),
        ("members[2].name", "U+202E RIGHT-TO-LEFT OVERRIDE")),
    Row("organisation-with-a-zero-width-space",
        register(with_member(0, organisation="南宁示例\u200b科技有限公司")),
        ("members[1].organisation", "U+200B ZERO WIDTH SPACE")),
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
    Row("leader-false-as-text", register(with_member(1, leader="false")),
        ("members[2].leader: Input should be a valid boolean, got the text 'false'",)),
    Row("team-name-a-mapping", register(team(name={"zh": "慧眼"})),
        ("name: Input should be a valid string, got a mapping",)),
    Row("team-name-a-number", register(team(name=7)),
        ("name: Input should be a valid string, got the number 7",)),
    Row("member-name-a-mapping", register(with_member(0, name={"first": "Li"})),
        ("members[1].name: Input should be a valid string, got a mapping",)),
    Row("id-card-number-unquoted",
        register(with_member(0, identity={"type": "id_card", "number": 450103199901010011})),
        ("members[1].identity.number: Input should be a valid string, got the number",)),
    Row("every-problem-listed", register(MANY_PROBLEMS),
        ("5 problems", "language: Input should be 'zh' or 'en', got the text 'fr'",
         "members[2].leader: Input should be a valid boolean",
         "members[2].leadr: not a key of this file format",
         "tracks[1].track: Input should be a valid integer, got the boolean true",
         "tracks[1].group: String should match pattern")),
    Row("no-members", register({"contest": "huiyan-2026", "name": "Alone"}),
        ("members: missing",)),
    Row("not-a-mapping", register_bytes(b"- just\n- a list\n"),
        ("(file): expected a mapping at the top, got a list",)),
    Row("yaml-aliases", register_bytes(ALIAS_BOMB), ("aliases (*name) are refused",)),
    Row("yaml-duplicate-key", register_bytes(DUPLICATE_KEY), ("line 4", "duplicate key 'leader'")),
    Row("proof-outside-the-folder",
        register(team(documents={"identity_proof": ["../../../ledger.sqlite3"]})),
        ("documents.identity_proof", "outside the team file's folder")),
    Row("contest-file-in-latin-1", create_contest(LATIN_1_CONTEST),
        ("(file): not UTF-8 (byte 0xe9",)),
    Row("contest-with-wrong-types", create_contest(WRONG_TYPES_CONTEST),
        ("3 problems", "tracks[3].id: Input should be a valid integer, got the text 'three'",
         "calendar.review_sla_days: Input should be a valid integer, got the text '5'",
         "quota.total_per_track: Input should be greater than 0")),
    Row("contest-time-that-is-a-date",
        create_contest(CONTEST.replace("19T00:00:00+08:00", "19")),
        ("calendar.final_end: expected a time, got a date",)),
    Row("blacklist-in-latin-1", import_list("organisation\nSociété Générale\n".encode("latin-1")),
        ("(file): not UTF-8",)),
    Row("blacklist-with-bad-lines", import_list(BAD_LINES),
        ("4 problems", "line 2.organisation: blank",
         "line 3.credit_code: a unified social credit code",
         "line 4.organisation: contains U+202E",
         "line 5: more fields than the 2 of the header")),
    Row("blacklist-with-a-nul-byte", import_list(b"organisation\nx\x00y\n"),
        ("line 2.organisation: contains U+0000",)),
    Row("blacklist-with-a-huge-field", import_list(b'organisation\n"' + b"x" * 200_000 + b'"\n'),
        ("not CSV: field larger than field limit",)),
    # 15. documents
    Row("upload-with-javascript", upload(pdf(script=True)),
        ("[upload.script]", "scan.pdf", "JavaScript")),
    Row("upload-with-an-embedded-file", upload(pdf(attachment=True)),
        ("[upload.embedded_file]", "scan.pdf")),
    Row("identity-proof-with-javascript", register_with_proof(pdf(script=True)),
        ("[upload.script]", "proof.pdf")),
    Row("upload-of-768-mib", upload_huge,
        ("[upload.too_large]", "huge.pdf", f"limit of {MAX_UPLOAD_BYTES} bytes"), huge=True),
    Row("report-of-768-mib", submit(lambda files: files.huge()),
        ("[upload.too_large]", "huge.pdf"), clock=ROUND_TIME, huge=True),
    Row("report-with-javascript", submit(lambda files: files.bytes("report.pdf", pdf(script=True))),
        ("[upload.script]", "report.pdf"), clock=ROUND_TIME),
    Row("leader-submits-for-another-team",
        submit(lambda files: str(files.world.report)),
        ("[team.not_yours]", "is not yours"), clock=ROUND_TIME, who="lead-lijiang"),
    Row("refused-member-change-leaves-no-record", change_members(team()),
        ("[team.status_forbids]",)),
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
    args = row.args(files)
    reads = CountingReads(monkeypatch)
    signed_in(world.huiyan, row.who, row.clock)  # the session exists before the row runs
    before = world.written()
    result = world.huiyan(*args, clock=row.clock, who=row.who)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in row.expect:
        assert needle in lines[0], lines[0]
    assert world.written() == before
    assert reads.read == (MAX_UPLOAD_BYTES + 1 if row.huge else 0)
