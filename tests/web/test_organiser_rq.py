"""The RQ dashboard under /organiser/rq (web/organiser_rq.py): the organiser's alone; without
Redis a page that says why there is no queue; with Redis the dashboard itself, its inline
script admitted by a nonce under a policy relaxed for its pages only."""

from __future__ import annotations

import re

import pytest

from ledger.settings import Settings
from tests.flows import REGISTRATION_TIME
from tests.web.conftest import LOGINS
from tests.web.site import Visitor
from web import create_app

REDIS_URL = "redis://127.0.0.1:6379/15"


def signed_in(app, registered, role: str) -> Visitor:
    visitor = Visitor(app)
    visitor.sign_in(registered.huiyan.people[LOGINS[role]], REGISTRATION_TIME)
    return visitor


@pytest.mark.parametrize("role", ["team_member", "expert", "arbitrator", "compliance_officer"])
def test_the_dashboard_is_refused_to_everyone_but_the_organiser(registered, role) -> None:
    visitor = signed_in(registered.app, registered, role)
    for path in ("/organiser/rq/", "/organiser/rq/0/data/queues.json"):
        assert visitor.get(path).status_code == 403, (role, path)
    assert Visitor(registered.app).get("/organiser/rq/").status_code == 302  # to sign in


def test_without_redis_the_organiser_is_told_jobs_run_in_process(registered) -> None:
    visitor = signed_in(registered.app, registered, "organiser")
    answer = visitor.get("/organiser/rq/", headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    assert "jobs run in-process" in answer.get_data(as_text=True)


@pytest.fixture(scope="module")
def with_redis(registered):
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    settings = Settings.from_env(
        {**registered.huiyan.env, "HUIYAN_REDIS_URL": REDIS_URL, "HUIYAN_CLOCK": REGISTRATION_TIME}
    )
    app = create_app(settings, config={"TESTING": True, "RATELIMIT_ENABLED": False})
    yield app
    connection.flushdb()


@pytest.mark.redis
def test_with_redis_the_organiser_gets_the_dashboard_under_its_own_policy(
    registered, with_redis
) -> None:
    visitor = signed_in(with_redis, registered, "organiser")
    page = visitor.get("/organiser/rq/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "RQ dashboard" in html
    policy = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'<script nonce="{nonce}">' in html  # its inline script runs, no other
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" in policy
    assert "organiser.js" in html  # the CSRF token for its buttons

    queues = visitor.get("/organiser/rq/0/data/queues.json")
    assert queues.status_code == 200 and "queues" in queues.get_json()
    # Our own pages keep the strict policy.
    ours = visitor.get("/organiser/").headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in ours and "nonce-" not in ours
    # No change by GET, none without the form's token.
    assert visitor.get("/organiser/rq/requeue/default").status_code == 405
    assert visitor.post("/organiser/rq/queue/default/compact").status_code == 400


@pytest.mark.redis
def test_with_redis_the_dashboard_is_still_refused_to_a_team_and_an_expert(
    registered, with_redis
) -> None:
    for role in ("team_member", "expert"):
        visitor = signed_in(with_redis, registered, role)
        assert visitor.get("/organiser/rq/").status_code == 403
        assert (
            visitor.get("/organiser/rq/0/data/jobs/default/queued/8/asc/1.json").status_code == 403
        )
