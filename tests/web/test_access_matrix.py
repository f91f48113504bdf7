"""Every route × every role: the answer the authorisation matrix (tests/web/access/) says.

Admitted: anything but a refusal (a page, a redirect onward, a 404 for a made-up id, a 400 for
an empty form). Refused: 403 for a signed-in person, a redirect to sign in for a visitor. And
no route is missing from the table: a new route must say who it admits, here and in the code.
"""

from __future__ import annotations

import importlib
import uuid

import pytest

from tests.flows import REGISTRATION_TIME
from tests.web.access import PUBLIC, SIGNED_IN, Route
from tests.web.conftest import LOGINS
from tests.web.site import Visitor, csrf_token
from web import BLUEPRINTS

PARTS = [name.rpartition(".")[2] for name in BLUEPRINTS]
ROUTES: list[Route] = [
    route for part in PARTS for route in importlib.import_module(f"tests.web.access.{part}").ROUTES
]
MADE_UP = uuid.UUID(int=0x5EED)


def test_the_table_names_every_route_and_only_those(registered) -> None:
    app = registered.app
    served = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    table = {(route.endpoint, route.method) for route in ROUTES}
    assert served - table == set(), "routes without a row in tests/web/access/"
    assert table - served == set(), "rows for routes the application does not serve"


@pytest.mark.parametrize("role", [None, *LOGINS])
def test_every_role_gets_the_answer_of_the_table(registered, role: str | None) -> None:
    visitor = Visitor(registered.app)
    if role is not None:
        visitor.sign_in(registered.huiyan.people[LOGINS[role]], REGISTRATION_TIME)
    token = csrf_token(visitor.text("/"))
    wrong = []
    for route in ROUTES:
        path = route.path.format(id=MADE_UP, team=registered.team)
        if route.method == "GET":
            answer = visitor.get(path)
        else:
            answer = visitor.client.open(path, method=route.method, data={"csrf_token": token})
        admitted = bool(
            route.admits >= PUBLIC
            or (role is not None and (route.admits >= SIGNED_IN or role in route.admits))
        )
        to_sign_in = answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
        refused = answer.status_code == 403 or (role is None and to_sign_in)
        if admitted == refused:
            wrong.append(f"{route.method} {path}: {answer.status_code} for {role or 'visitor'}")
        if route.endpoint == "auth.sign_out" and admitted:
            visitor.sign_in(registered.huiyan.people[LOGINS[role]], REGISTRATION_TIME)
            token = csrf_token(visitor.text("/"))
    assert wrong == []
