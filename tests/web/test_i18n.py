"""Chinese and English: every string is translated, and the page's language follows the
person's choice, then their team's language, then the browser."""

from __future__ import annotations

from tests.flows import REGISTRATION_TIME
from tests.web.site import Visitor
from web.untranslated import missing


def test_every_string_of_the_site_has_its_chinese() -> None:
    assert missing("zh") == {}, "run `python -m web.untranslated` and translate what it lists"


def test_the_language_follows_the_browser_then_the_switch(registered) -> None:
    visitor = Visitor(registered.app)
    english = visitor.get("/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Login" in english.get_data(as_text=True) and "登录名" not in english.get_data(
        as_text=True
    )
    chinese = visitor.get("/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录名" in chinese.get_data(as_text=True)
    switched = visitor.submit("/sign-in", {"language": "en", "next": "/sign-in"},
                              action="/language", headers={"Accept-Language": "zh-CN"})  # fmt: skip
    assert switched.status_code == 302 and switched.headers["Location"] == "/sign-in"
    page = visitor.get("/sign-in", headers={"Accept-Language": "zh-CN"})
    assert "Login" in page.get_data(as_text=True)


def test_a_team_member_reads_the_site_in_the_team_language(registered) -> None:
    """yongjiang locked Chinese (docs/examples/team-yongjiang.yaml): its leader's browser asks
    for English, and gets Chinese, until they switch."""
    visitor = Visitor(registered.app)
    visitor.sign_in(registered.huiyan.people["lead-yongjiang"], REGISTRATION_TIME)
    page = visitor.get("/", headers={"Accept-Language": "en"})
    assert "我的团队" in page.get_data(as_text=True)
    visitor.submit("/", {"language": "en", "next": "/"}, action="/language")
    assert "My team" in visitor.get("/", headers={"Accept-Language": "zh"}).get_data(as_text=True)


def test_a_string_means_one_thing_in_every_part_of_the_site() -> None:
    """The parts' catalogues are merged into one: a string translated two ways in two parts
    would show one part's word on the other's page."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    for path in sorted(Path("web/translations").glob("*/zh/LC_MESSAGES/messages.po")):
        with path.open("rb") as stream:
            for message in read_po(stream, locale="zh"):
                if isinstance(message.id, str) and message.id and message.string:
                    seen.setdefault(message.id, {})[path.parts[-4]] = str(message.string)
    differing = {text: parts for text, parts in seen.items() if len(set(parts.values())) > 1}
    assert differing == {}


def test_the_switch_on_a_page_that_answers_a_form_returns_to_the_form(registered) -> None:
    """A page that answers a POST (a receipt checked) has no address of its own to come back
    to: the switch brings the person back to the page the form was on."""
    import re

    visitor = Visitor(registered.app)
    answer = visitor.submit("/ledger", {"receipt": "{}"}, action="/ledger/receipt",
                            headers={"Referer": "http://localhost/ledger?x=1"})  # fmt: skip
    shown = re.search(r'name="next" value="([^"]*)"', answer.get_data(as_text=True))
    assert shown and shown.group(1) == "/ledger?x=1"
    elsewhere = visitor.submit("/ledger", {"receipt": "{}"}, action="/ledger/receipt",
                               headers={"Referer": "https://evil.example/x"})  # fmt: skip
    assert 'name="next" value="/"' in elsewhere.get_data(as_text=True)
