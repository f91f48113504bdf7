"""The witness over HTTP (tlog-witness add-checkpoint on a random port, in a thread) and its
commands: ``huiyan audit witness init|cosign``, and ``huiyan ledger checkpoint`` asking it."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request

import pytest

from audit.witness import Witness
from audit.witness_http import WitnessServer
from ledger.checkpoint import parse_note
from ledger.cosignature import check_cosignatures
from ledger.keys import Keyring
from ledger.ledger import Ledger, keyring_for
from ledger.witness_protocol import AddCheckpoint
from tests.audit.witnesses import make_witness, request, serving, with_witnesses
from tests.ledger.history import NOW, fill, huiyan_for, make_settings


@pytest.fixture
def sqlite_settings(tmp_path):
    return make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


def post(url: str, body: bytes) -> tuple[int, str, str]:
    """(status, content type, text) of a POST to the witness."""
    call = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(call, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_add_checkpoint_over_http_answers_every_status_of_the_protocol(tmp_path, sqlite_settings):
    fill(sqlite_settings, 3)
    ledger = Ledger.from_settings(sqlite_settings)
    first = ledger.issue_checkpoint(NOW)
    witness = make_witness(tmp_path / "witness", sqlite_settings)
    with serving(witness) as url:
        status, _, text = post(url, request(ledger, first, 0).encode())
        assert status == 200
        key = witness.key.verifier
        assert check_cosignatures(first.checkpoint.body, text.splitlines(), {key.key_id: key}).valid
        assert post(url, request(ledger, first, 0).encode()) == (409, "text/x.tlog.size", "6\n")
        fill(sqlite_settings, 1)
        second = ledger.issue_checkpoint(NOW)
        bad = AddCheckpoint(6, [bytes(32)], second.note)
        assert post(url, bad.encode())[0] == 422
        thief = Keyring(tmp_path / "thief", sqlite_settings.origin).signing_key()
        assert post(url, AddCheckpoint(6, [], first.checkpoint.sign(thief)).encode())[0] == 403
        other_origin = first.note.replace(sqlite_settings.origin, "elsewhere/log", 1)
        assert post(url, AddCheckpoint(0, [], other_origin).encode())[0] == 404
        assert post(url, b"old 01\n\n" + first.note.encode())[0] == 400
        assert post(url, b"no blank line")[0] == 400
        assert post(url, request(ledger, second, 6).encode())[0] == 200
    assert witness.state(sqlite_settings.origin).size == 8


@pytest.fixture(params=["sqlite", "postgres"])
def any_settings(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return make_settings(tmp_path / "home", url)


def test_the_ledger_has_each_checkpoint_cosigned_and_keeps_the_cosignatures(tmp_path, any_settings):
    fill(any_settings, 3)
    witness = make_witness(tmp_path / "witness", any_settings)
    with serving(witness) as url:
        settings = with_witnesses(any_settings, (url, witness))
        result = huiyan_for(settings, "ledger", "checkpoint")
        assert result.exit_code == 0, result.output
        assert "witness.test/w1" in result.stderr and "FAILED" not in result.stderr
        note = result.stdout
        fill(settings, 2)
        later = huiyan_for(settings, "ledger", "checkpoint")
    key = witness.key.verifier
    signed = parse_note(note, keyring_for(settings).verifier_keys())  # the log's signature ...
    assert check_cosignatures(signed.checkpoint.body, note.splitlines(), {key.key_id: key}).valid
    assert later.exit_code == 0 and "FAILED" not in later.stderr
    newest = Ledger.from_settings(settings).latest_checkpoint()
    assert newest.checkpoint.tree_size == 10
    assert witness.state(settings.origin).root == newest.checkpoint.root_hash
    assert list(Ledger.from_settings(settings).cosignatures(newest)) == [key.key_id]


def test_an_unreachable_witness_is_reported_and_withholds_nothing(tmp_path, sqlite_settings):
    fill(sqlite_settings, 2)
    witness = make_witness(tmp_path / "witness", sqlite_settings)
    with serving(witness) as url:
        pass  # the port is closed again
    settings = with_witnesses(sqlite_settings, (url, witness))
    result = huiyan_for(settings, "ledger", "checkpoint")
    assert result.exit_code == 0
    assert f"witness witness.test/w1 ({url}): FAILED: unreachable" in result.stderr
    assert Ledger.from_settings(settings).latest_checkpoint().checkpoint.tree_size == 4
    assert "\u2014 witness.test/w1" not in result.stdout
    # Back up: issuing again, with nothing new, has the same checkpoint cosigned; and then
    # the witness is not asked again.
    with serving(witness) as url:
        settings = with_witnesses(sqlite_settings, (url, witness))
        again = huiyan_for(settings, "ledger", "checkpoint")
    assert f"witness witness.test/w1 ({url}): cosigned" in again.stderr
    assert again.stdout.startswith(result.stdout) and "\u2014 witness.test/w1" in again.stdout
    third = huiyan_for(settings, "ledger", "checkpoint")  # the witness is down again
    assert third.stdout == again.stdout
    assert f"witness witness.test/w1 ({url}): had cosigned" in third.stderr


def test_a_lost_answer_is_recovered_from_the_witness_409(tmp_path, sqlite_settings):
    """The witness cosigned, but the ledger never kept it: it asks from its old size, hears
    the witness's size, and asks again from there."""
    fill(sqlite_settings, 3)
    witness = make_witness(tmp_path / "witness", sqlite_settings)
    plain = Ledger.from_settings(sqlite_settings)
    witness.add_checkpoint(request(plain, plain.issue_checkpoint(NOW), 0))  # answer lost
    with serving(witness) as url:
        settings = with_witnesses(sqlite_settings, (url, witness))
        fill(settings, 1)
        outcomes = []
        signed = Ledger.from_settings(settings).issue_checkpoint(NOW, report=outcomes.append)
    assert [o.failure for o in outcomes] == [None]
    assert witness.state(settings.origin).size == signed.checkpoint.tree_size == 8


def test_cosign_offline_on_files_and_init_from_the_command_line(tmp_path, sqlite_settings):
    fill(sqlite_settings, 3)
    log_key = keyring_for(sqlite_settings).signing_key().verifier.encode()
    folder = str(tmp_path / "witness")
    init = huiyan_for(
        sqlite_settings,
        *("audit", "witness", "init", "--dir", folder, "--name", "witness.test/cli"),
        *("--origin", sqlite_settings.origin, "--log-key", log_key),
    )
    assert init.exit_code == 0, init.output
    vkey = init.stdout.strip()
    assert vkey.startswith("witness.test/cli+")
    checkpoint = tmp_path / "checkpoint"
    checkpoint.write_text(huiyan_for(sqlite_settings, "ledger", "checkpoint").stdout)
    proof = tmp_path / "proof"
    proof.write_text(huiyan_for(sqlite_settings, "ledger", "consistency", "0").stdout)
    assert proof.read_text() == "old 0\n"
    args = ("audit", "witness", "cosign", "--dir", folder)
    files = ("--checkpoint", str(checkpoint), "--proof", str(proof))
    cosigned = huiyan_for(sqlite_settings, *args, *files)
    assert cosigned.exit_code == 0, cosigned.output
    kept = tmp_path / "kept"
    kept.write_text(checkpoint.read_text() + cosigned.stdout)
    verified = huiyan_for(
        sqlite_settings,
        *("ledger", "verify", "--checkpoint", str(kept), "--witness-key", vkey),
    )
    assert verified.exit_code == 0, verified.output
    again = huiyan_for(sqlite_settings, *args, *files)
    assert again.exit_code == 1
    assert again.stderr == (
        "refused (409 Conflict): the log's old size is not this witness's size, 6\n"
    )
    fill(sqlite_settings, 1)
    checkpoint.write_text(huiyan_for(sqlite_settings, "ledger", "checkpoint").stdout)
    proof.write_text(huiyan_for(sqlite_settings, "ledger", "consistency", "6").stdout)
    assert huiyan_for(sqlite_settings, *args, *files).exit_code == 0
    assert Witness(tmp_path / "witness", lambda: NOW).state(sqlite_settings.origin).size == 8
    missing = huiyan_for(
        sqlite_settings, "audit", "witness", "cosign", "--dir", str(tmp_path), *files
    )
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: no witness in")


def test_serve_listens_on_its_port_and_a_taken_port_is_one_line(
    tmp_path, sqlite_settings, monkeypatch
):
    fill(sqlite_settings, 3)
    ledger = Ledger.from_settings(sqlite_settings)
    first = ledger.issue_checkpoint(NOW)
    folder = tmp_path / "witness"
    make_witness(folder, sqlite_settings)
    answers = []

    def serve_one(server):  # serve_forever, for one request sent from a thread
        url = f"http://127.0.0.1:{server.server_port}"
        body = request(ledger, first, 0).encode()
        client = threading.Thread(target=lambda: answers.append(post(url, body)))
        client.start()
        server.handle_request()
        client.join()

    monkeypatch.setattr(WitnessServer, "serve_forever", serve_one)
    args = ("audit", "witness", "serve", "--dir", str(folder), "--port")
    served = huiyan_for(sqlite_settings, *args, "0")
    assert served.exit_code == 0, served.output
    assert served.stderr.startswith("witness witness.test/w1+")
    assert "/add-checkpoint" in served.stderr
    assert [status for status, _, _ in answers] == [200]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = huiyan_for(sqlite_settings, *args, str(taken.getsockname()[1]))
    assert busy.exit_code == 2
    assert busy.stderr.startswith("error: cannot listen on 127.0.0.1:")
