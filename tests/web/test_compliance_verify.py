"""A verification started in the browser is ``huiyan ledger verify``: intact on an intact
ledger, and after an SQL edit of one event row (tests/ledger/attack.py) it names the damage,
as the CLI does."""

from __future__ import annotations

import json

from ledger.settings import Settings
from tests.ledger.attack import EVENTS, run_sql
from tests.web.compliance_site import ledger_size, verified, visitor_as


def test_an_edited_event_row_is_reported(registered) -> None:
    huiyan = registered.huiyan
    registered.huiyan.ok("ledger", "checkpoint")
    auditor = visitor_as(registered, "auditor")
    before = verified(auditor)
    assert before["state"] == "intact" and before["problems"] == []

    settings = Settings.from_env(huiyan.env)
    run_sql(settings, f"UPDATE {EVENTS} SET state = :s WHERE position = 5", s=b'{"title":"x"}')
    after = verified(auditor)
    assert after["state"] == "not intact"
    assert after["first_bad_position"] == 5
    assert after["problems"][0]["position"] == 5 and after["problems"][0]["kind"] == "modified"
    assert after["size"] == ledger_size(huiyan)
    assert "NOT INTACT" in after["page"] and "modified" in after["page"]
    # the CLI reads the same ledger the same way
    cli = huiyan("ledger", "verify", "--json")
    assert cli.exit_code == 1
    report = json.loads(cli.stdout)
    assert report["first_bad_position"] == after["first_bad_position"]
    assert [p["kind"] for p in report["problems"]] == [p["kind"] for p in after["problems"]]
    # the health page shows the last result
    page = auditor.text("/compliance/")
    assert "NOT INTACT" in page
