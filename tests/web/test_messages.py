"""In-site messages (站内信): derived from the ledger's events, addressed to the team a decision
concerns, in its language, read and unread per person; and the same messages by e-mail,
each once (docs/web/notices.md)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage as Message

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from flask import Flask

from huiyan_cli import main
from tests.flows import REGISTRATION_TIME, Huiyan, approved_team, form_team
from tests.web.site import Visitor, site

AT = {"clock": REGISTRATION_TIME}
REJECTION = "身份证明材料不清晰 <b>unclear</b>"
_LINK = re.compile(r'href="/messages/([0-9a-f-]{36})"')


@dataclass
class Teams:
    huiyan: Huiyan
    app: Flask
    ids: dict[str, str]
    documents_called: bool = False

    def call_documents(self) -> None:
        """The organiser calls for the letters, once, whichever test needs it first (under
        xdist a module's tests may run on different workers, each with its own fixture)."""
        if not self.documents_called:
            self.huiyan.ok("contest", "call-documents", **AT)
            self.documents_called = True


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Teams]:
    """yongjiang (zh) approved; lijiang (en) approved with a note; beibu (zh) rejected; then
    the organiser calls for the letters (every team is told)."""
    work = tmp_path_factory.mktemp("messages")
    huiyan = Huiyan(work / "home", f"sqlite:///{work / 'ledger.sqlite3'}")
    ids = {"yongjiang": approved_team(huiyan)}
    for name in ("lijiang", "beibu"):
        ids[name] = form_team(huiyan, name)
        huiyan.ok("team", "submit", ids[name], **AT)
    huiyan.ok("review", "approve", ids["lijiang"], "--reason", "Welcome aboard", **AT)
    huiyan.ok("review", "reject", ids["beibu"], "--reason", REJECTION, **AT)
    yield Teams(huiyan, site(huiyan, REGISTRATION_TIME), ids)


def signed_in(teams: Teams, login: str) -> Visitor:
    visitor = Visitor(teams.app)
    visitor.sign_in(teams.huiyan.people[login], REGISTRATION_TIME)
    return visitor


def links(page: str) -> list[str]:
    return _LINK.findall(page)


def test_a_rejected_team_reads_why_in_its_language(teams: Teams) -> None:
    visitor = signed_in(teams, "lead-beibu")
    page = visitor.text("/messages/")
    assert "报名审核未通过" in page and "Registration rejected" not in page
    opened = links(page)[-1]  # the oldest: the review (a call for letters may follow)
    message = visitor.text(f"/messages/{opened}")
    assert "身份证明材料不清晰 &lt;b&gt;unclear&lt;/b&gt;" in message  # the reason, as text
    assert "<b>unclear</b>" not in message


def test_an_english_team_reads_its_approval_in_english(teams: Teams) -> None:
    visitor = signed_in(teams, "lijiang-berg")  # a member, not only the leader, is told
    page = visitor.get("/messages/", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "Registration approved" in page and "报名审核通过" not in page
    opened = links(page)[-1]
    assert "Welcome aboard" in visitor.text(f"/messages/{opened}")


def test_another_team_neither_sees_nor_opens_a_message(teams: Teams) -> None:
    beibu = links(signed_in(teams, "lead-beibu").text("/messages/"))[0]
    yongjiang = signed_in(teams, "lead-yongjiang")
    page = yongjiang.text("/messages/")
    assert "报名审核通过" in page and "未通过" not in page and beibu not in page
    assert yongjiang.get(f"/messages/{beibu}").status_code == 404
    expert = signed_in(teams, "organiser")  # nobody outside the team reads it either
    assert expert.get(f"/messages/{beibu}").status_code == 404


def test_unread_until_opened_by_each_person(teams: Teams) -> None:
    teams.call_documents()  # a second message to every team
    huang = signed_in(teams, "yongjiang-huang")
    page = huang.text("/messages/")
    assert page.count('class="unread"') == 2 and 'title="未读">2</span>' in page
    newest, older = links(page)
    assert "请上传报名材料" in huang.text(f"/messages/{newest}")  # newest first
    assert "承诺书" in huang.text(f"/messages/{newest}")
    page = huang.text("/messages/")
    assert page.count('class="unread"') == 1 and 'title="未读">1</span>' in page
    assert '<tr class="read">' in page and links(page) == [newest, older]
    # Another member of the same team has read nothing yet.
    lu = signed_in(teams, "yongjiang-lu").text("/messages/")
    assert lu.count('class="unread"') == 2


def test_the_messages_are_rebuilt_with_the_same_ids_and_reads_kept(teams: Teams) -> None:
    huang = signed_in(teams, "yongjiang-huang")
    before = huang.text("/messages/")
    result = teams.huiyan.raw("read-models", "rebuild", session=None)
    assert result.exit_code == 0 and "the messages" in result.output, result.output
    after = huang.text("/messages/")
    assert links(after) == links(before) and after.count('class="unread"') == before.count(
        'class="unread"'
    )


# --- e-mail ---------------------------------------------------------------------------------


class Sink:
    """An SMTP server on a free local port that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's
        self.received.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def send(teams: Teams, port: int | None) -> str:
    env = {
        **teams.huiyan.env,
        "HUIYAN_CLOCK": REGISTRATION_TIME,
        "HUIYAN_SESSION": "nobody",
        "HUIYAN_SMTP": f"127.0.0.1:{port}" if port else "",
        "HUIYAN_MAIL_FROM": "notices@huiyan.example",
    }
    result = CliRunner().invoke(main, ["mail", "send"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def subject(mail: Message) -> str:
    return str(mail["Subject"])


def to(sink: Sink, address: str) -> list[Message]:
    return [mail for rcpt, mail in sink.received if address in rcpt]


def test_each_message_is_mailed_once_in_the_team_language(teams: Teams, sink) -> None:
    received, port = sink
    teams.call_documents()
    assert "not set" in send(teams, None) and received.received == []  # no relay: in-site only
    send(teams, port)
    lijiang = to(received, "lead-lijiang@people.example")
    assert [subject(m) for m in lijiang] == [
        "huiyan: Registration approved",
        "huiyan: Registration letters called for",
    ]
    assert "Welcome aboard" in lijiang[0].get_content()
    assert lijiang[0]["From"] == "notices@huiyan.example"
    assert to(received, "lijiang-berg@people.example") == lijiang  # one mail to the team
    beibu = to(received, "lead-beibu@people.example")
    assert subject(beibu[0]) == "huiyan: 报名审核未通过" and REJECTION in beibu[0].get_content()
    assert not any("Welcome aboard" in m.get_content() for m in beibu)
    # The invitations of the outbox go too, each to its one address.
    invitation = to(received, "xiaolan@yongjiang.example")
    assert len(invitation) == 1 and "token: " in invitation[0].get_content()
    messages = len(received.received)
    assert messages == 3 * 2 + 4  # three teams told twice; four invitations
    assert send(teams, port) == "" and len(received.received) == messages  # nothing twice
