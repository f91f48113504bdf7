"""The protections every page has: CSRF on every form, security headers and a strict content
security policy, session cookies' flags, a short session, sign-in rate-limited, a hostile
name shown as text."""

from __future__ import annotations

import re

from tests.flows import REGISTRATION_TIME
from tests.web.site import Visitor, csrf_token, site


def test_a_form_posted_without_its_token_is_refused_and_does_nothing(registered) -> None:
    visitor = Visitor(registered.app)
    person = registered.huiyan.people["organiser"]
    forged = visitor.post("/sign-in", {"login": person.login, "password": person.password,
                                       "code": person.code(REGISTRATION_TIME)})  # fmt: skip
    assert forged.status_code == 400
    assert visitor.get("/organiser/").status_code == 302  # still not signed in
    wrong_token = visitor.post("/sign-in", {"login": person.login, "password": person.password,
                                            "csrf_token": "forged"})  # fmt: skip
    assert wrong_token.status_code == 400


def test_every_page_carries_the_security_headers(registered) -> None:
    answer = Visitor(registered.app).get("/")
    policy = answer.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in policy
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def _session_cookie(answer) -> str:
    cookies = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("huiyan=")]
    assert cookies, answer.headers
    return cookies[-1]


def test_the_session_cookie_is_httponly_lax_short_and_secure_off_loopback(registered) -> None:
    person = registered.huiyan.people["lead-yongjiang"]
    loopback = Visitor(registered.app).sign_in(person, REGISTRATION_TIME)
    cookie = _session_cookie(loopback)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = re.search(r"Max-Age=(\d+)", cookie) or re.search(r"Expires=", cookie)
    assert expires, cookie
    remote = registered.app.test_client()
    shown = remote.get("/sign-in", base_url="https://contest.example")
    form = {"login": person.login, "password": person.password,
            "csrf_token": csrf_token(shown.get_data(as_text=True))}  # fmt: skip
    answer = remote.post("/sign-in", base_url="https://contest.example", data=form)
    assert "Secure" in _session_cookie(answer)


def test_signing_in_is_rate_limited_per_address(registered) -> None:
    app = site(registered.huiyan, REGISTRATION_TIME, RATELIMIT_ENABLED=True)
    visitor = Visitor(app)
    visitor.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # an address of its own
    answers = [
        visitor.submit("/sign-in", {"login": "nobody", "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert answers[:10] == [200] * 10 and answers[10] == 429


def test_signing_out_ends_the_session_on_the_server(registered) -> None:
    visitor = Visitor(registered.app)
    visitor.sign_in(registered.huiyan.people["lead-yongjiang"], REGISTRATION_TIME)
    stolen = visitor.client.get_cookie("huiyan").value
    assert visitor.get("/team/").status_code == 200
    visitor.submit("/", {}, action="/sign-out")
    thief = Visitor(registered.app)
    thief.client.set_cookie("huiyan", stolen)
    assert thief.get("/team/").status_code == 302  # the copied cookie opens nothing
