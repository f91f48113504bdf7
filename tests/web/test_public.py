"""The public pages on the registered contest: no leaderboard before publication, the latest
signed checkpoint with the ledger's keys, and receipts checked on the server (rate-limited)
and by static/receipt.js (in Node's WebCrypto, the same API a browser has)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.flows import REGISTRATION_TIME
from tests.web.compliance_site import flipped, ledger_size, position_of, receipt_on
from tests.web.site import Visitor, csrf_token, site

RECEIPT_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "receipt.js"


@pytest.fixture(scope="module")
def receipt(registered) -> dict[str, Any]:
    """A real receipt: the team's approval, proved against a fresh checkpoint, as the
    compliance page shows it (the receipt the team pages offer has the same form)."""
    registered.huiyan.ok("ledger", "checkpoint")
    position = position_of(registered.huiyan, "Team.Approved")
    officer = Visitor(registered.app)
    officer.sign_in(registered.huiyan.people["compliance"], REGISTRATION_TIME)
    return receipt_on(officer.text(f"/compliance/events?position={position}"))


def with_signature_flipped(receipt: dict[str, Any]) -> dict[str, Any]:
    body, _, line = receipt["checkpoint"].rstrip("\n").rpartition("\n")
    name, _, blob = line.rpartition(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 0x01
    return {**receipt, "checkpoint": f"{body}\n{name} {base64.b64encode(raw).decode()}\n"}


def broken(receipt: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """Receipts each changed in one way, and the check that must catch it."""
    path = receipt["path"]
    return {
        "leaf": ({**receipt, "leaf_hash": flipped(receipt["leaf_hash"], 7)}, "inclusion"),
        "path": ({**receipt, "path": [flipped(path[0], 31), *path[1:]]}, "inclusion"),
        "position": ({**receipt, "position": receipt["position"] ^ 1}, "inclusion"),
        "signature": (with_signature_flipped(receipt), "signature"),
        "root": (
            {**receipt, "checkpoint": receipt["checkpoint"].replace("=\n", "A\n", 1)},
            "checkpoint",
        ),
        "size": ({**receipt, "tree_size": receipt["tree_size"] + 1}, "size"),
        "shape": ({**receipt, "leaf_hash": "zz"}, "shape"),
    }


def check(visitor: Visitor, text: str, *, as_json: bool = True) -> Any:
    token = csrf_token(visitor.text("/ledger"))
    headers = {"Accept": "application/json"} if as_json else {}
    return visitor.post("/ledger/receipt", {"receipt": text, "csrf_token": token}, headers=headers)


def test_nothing_is_on_the_leaderboard_before_publication(registered) -> None:
    visitor = Visitor(registered.app)
    page = visitor.text("/leaderboard")
    assert page.count('<span class="badge">') == 8  # the 2026 contest's eight tracks
    for track in range(1, 9):
        shown = visitor.text(f"/leaderboard?track={track}")
        assert f'data-track="{track}"' in shown and "data-not-published" in shown
        assert "data-line" not in shown and "邕江慧影" not in shown


def test_the_ledger_page_shows_the_checkpoint_and_the_keys(registered, receipt) -> None:
    page = Visitor(registered.app).text("/ledger")
    note = registered.huiyan.ok("ledger", "checkpoint")
    assert f"data-checkpoint-size>{ledger_size(registered.huiyan)}<" in page
    assert note.splitlines()[-1].split(" ")[-1] in page
    for vkey in registered.huiyan.ok("ledger", "keys").splitlines():
        assert f"data-ledger-vkey>{vkey}<" in page
    assert 'src="/static/receipt.js"' in page and "data-receipt-form" in page


def test_the_server_accepts_a_real_receipt_and_refuses_a_flipped_byte(registered, receipt):
    visitor = Visitor(registered.app)
    good = check(visitor, json.dumps(receipt))
    assert good.status_code == 200 and good.get_json()["ok"] is True
    for what, (bad, code) in broken(receipt).items():
        answer = check(visitor, json.dumps(bad))
        assert answer.status_code == 400, what
        assert answer.get_json() | {"detail": ""} == {"ok": False, "code": code, "detail": ""}, what
    assert check(visitor, "not json").get_json()["code"] == "shape"
    assert check(visitor, "[1, 2]").get_json()["code"] == "shape"
    # without a script: the page again, with the verdict in the page's language
    page = check(visitor, json.dumps(broken(receipt)["leaf"][0]), as_json=False)
    assert page.status_code == 400 and "✗" in page.get_data(as_text=True)
    chinese = visitor.post(
        "/ledger/receipt",
        {"receipt": json.dumps(receipt), "csrf_token": csrf_token(visitor.text("/ledger"))},
        headers={"Accept-Language": "zh-CN"},
    ).get_data(as_text=True)
    assert "✓" in chinese and "回执有效" in chinese
    assert visitor.post("/ledger/receipt", {"receipt": json.dumps(receipt)}).status_code == 400


def test_the_server_check_is_rate_limited(registered, receipt) -> None:
    limited = site(registered.huiyan, REGISTRATION_TIME, RATELIMIT_ENABLED=True)
    visitor = Visitor(limited)
    answers = [check(visitor, json.dumps(receipt)).status_code for _ in range(21)]
    assert answers[:20] == [200] * 20 and answers[20] == 429


NODE_CHECK = """
const { verifyReceipt } = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
Promise.all(input.receipts.map((r) => verifyReceipt(r, input.keys)))
  .then((results) => console.log(JSON.stringify(results)));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no Node.js here")
def test_receipt_js_gives_the_servers_verdicts(registered, receipt) -> None:
    """The browser's check, run in Node's WebCrypto (SHA-256 and Ed25519, as Chromium has)."""
    cases = broken(receipt)
    keys = registered.huiyan.ok("ledger", "keys").splitlines()
    given = {"receipts": [receipt, *(bad for bad, _ in cases.values())], "keys": keys}
    done = subprocess.run(
        ["node", "-e", NODE_CHECK, str(RECEIPT_JS)],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = json.loads(done.stdout)
    assert results[0]["ok"] is True and results[0]["code"] == "ok"
    assert [r["code"] for r in results[1:]] == [code for _, code in cases.values()]
    assert not any(r["ok"] for r in results[1:])
    # a key that is not the ledger's: nobody it knows signed the checkpoint
    other = subprocess.run(
        ["node", "-e", NODE_CHECK, str(RECEIPT_JS)],
        input=json.dumps({"receipts": [receipt], "keys": []}),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(other.stdout)[0]["code"] == "signature"
