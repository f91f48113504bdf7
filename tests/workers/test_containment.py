"""Hostile models through the real path (submit -> dispatcher -> sandbox -> scoring): no run
without isolation, time measured by the platform, outputs addressed by everything written,
caps that hold while the model runs, a uid per run, and platform faults told apart."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from domain.submissions import Submissions
from ledger.application import open_application
from ledger.settings import Settings, SettingsError
from tests.flows import Huiyan, ready_to_submit, submit
from workers.sandbox import Limits, SandboxError
from workers.sandbox.process import ProcessSandbox, confinement_argv
from workers.sandbox.uids import leased_uid

ROOT = os.geteuid() == 0


@pytest.fixture
def huiyan(tmp_path) -> Huiyan:
    return Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")


def bundle(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "predict.py").write_text(textwrap.dedent(body))
    return folder


def submission_of(huiyan: Huiyan, ident: str):
    settings = Settings.from_env(huiyan.env)
    return open_application(Submissions, settings).submission(UUID(ident))


def failure_of(huiyan: Huiyan, ident: str) -> dict:
    return json.loads(huiyan.ok("submission", "show", ident))["failure"]


CANARY_MODEL = """
    import os, pathlib
    pathlib.Path({canary!r}).write_text("the model ran")
    out = os.environ["HUIYAN_OUTPUT"]
    open(out + "/predictions.json", "w").write('{{"cases": []}}')
"""


# --- 1. no run without isolation --------------------------------------------------------------


def cannot_isolate(monkeypatch) -> None:
    """A host where bubblewrap cannot create namespaces (AppArmor, a confined container)."""
    monkeypatch.setattr(
        ProcessSandbox,
        "isolation_problem",
        property(lambda self: "bubblewrap cannot create the sandbox here: (simulated)"),
    )


@pytest.fixture
def canary_path():
    """Where a model that escaped would leave a mark: the host's /tmp, which any uid may
    write (an isolated model has a /tmp of its own)."""
    path = Path("/tmp") / f"huiyan-canary-{uuid4().hex}"
    yield path
    path.unlink(missing_ok=True)


def test_a_host_that_cannot_isolate_runs_nothing_and_refunds(
    huiyan, tmp_path, monkeypatch, canary_path
):
    team = ready_to_submit(huiyan, tmp_path)
    canary = canary_path
    model = bundle(tmp_path, "canary", CANARY_MODEL.format(canary=str(canary)))
    ident = submit(huiyan, team, tmp_path, model=model)
    cannot_isolate(monkeypatch)
    huiyan.ok("dispatcher", "--once")
    assert not canary.exists(), "the model ran without isolation"
    failure = failure_of(huiyan, ident)
    assert (failure["reason"], failure["refunded"]) == ("platform_fault", True)
    assert submission_of(huiyan, ident).inference is None


def test_only_development_may_run_without_isolation_and_it_is_on_the_record(
    huiyan, tmp_path, monkeypatch
):
    for environment in ("test", "production"):
        with pytest.raises(SettingsError, match="refused unless HUIYAN_ENV=development"):
            Settings.from_env({"HUIYAN_ENV": environment, "HUIYAN_SANDBOX_UNISOLATED": "allow"})
    team = ready_to_submit(huiyan, tmp_path)
    ident = submit(huiyan, team, tmp_path)
    cannot_isolate(monkeypatch)
    huiyan.env.update(HUIYAN_ENV="development", HUIYAN_SANDBOX_UNISOLATED="allow")
    huiyan.ok("dispatcher", "--once")
    # (Whether the model then manages to read its bundle as an unprivileged uid outside any
    # namespace is beside the point: the run's record says how weak its isolation was.)
    recorded = submission_of(huiyan, ident)
    events = recorded.inference or recorded.failure
    assert any("WITHOUT namespaces" in warning for warning in events["sandbox_warnings"])


def test_a_worker_that_cannot_isolate_refuses_to_start(huiyan, monkeypatch):
    cannot_isolate(monkeypatch)
    huiyan.env["HUIYAN_REDIS_URL"] = "redis://127.0.0.1:6379/9"
    result = huiyan("worker", "--burst")
    assert result.exit_code == 2
    assert "cannot isolate models" in result.output and "refuses all work" in result.output


# --- 2. time is the platform's ------------------------------------------------------------------


def test_time_is_measured_by_the_platform_not_claimed_by_the_model(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path, cases=4)
    model = bundle(
        tmp_path,
        "liar",
        """
        import json, os, time
        out = os.environ["HUIYAN_OUTPUT"]
        cases = json.load(open(os.environ["HUIYAN_INPUT"] + "/cases.json"))
        time.sleep(2.0)
        claim = {"model_load_s": 0.0, "cases": {c["case_id"]: 0.001 for c in cases}}
        json.dump(claim, open(out + "/timings.json", "w"))
        json.dump({"cases": []}, open(out + "/predictions.json", "w"))
        """,
    )
    ident = submit(huiyan, team, tmp_path, model=model)
    huiyan.ok("dispatcher", "--once")
    seconds = submission_of(huiyan, ident).inference["case_seconds"]
    assert len(seconds) == 4
    assert all(value >= 0.5 for value in seconds.values()), seconds  # 2 s over 4 cases


# --- 3. outputs addressed by everything the run wrote -------------------------------------------


MAPS_MODEL = """
    import os
    out = os.environ["HUIYAN_OUTPUT"]
    open(out + "/predictions.json", "w").write('{{"cases": []}}')
    os.mkdir(out + "/c0001")
    open(out + "/c0001/map.bin", "w").write({content!r})
"""


def test_runs_with_the_same_predictions_but_other_maps_keep_their_own_output(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    first = submit(
        huiyan, team, tmp_path, model=bundle(tmp_path, "a", MAPS_MODEL.format(content="A"))
    )
    second = submit(
        huiyan,
        team,
        tmp_path,
        model=bundle(tmp_path, "b", MAPS_MODEL.format(content="B")),
        clock="2026-08-04T10:00:00+08:00",
    )
    huiyan.ok("dispatcher", "--once")
    one, two = (submission_of(huiyan, s).inference for s in (first, second))
    assert one["predictions_sha256"] == two["predictions_sha256"]
    assert one["output_sha256"] != two["output_sha256"]
    home = Path(huiyan.env["HUIYAN_HOME"]) / "predictions"
    assert (home / one["output_sha256"] / "c0001" / "map.bin").read_text() == "A"
    assert (home / two["output_sha256"] / "c0001" / "map.bin").read_text() == "B"
    assert not (Path(huiyan.env["HUIYAN_HOME"]) / "runs").exists() or not any(
        (Path(huiyan.env["HUIYAN_HOME"]) / "runs").iterdir()
    )


# --- 4. the output cap holds while the model runs -----------------------------------------------


@pytest.mark.skipif(not ROOT, reason="the in-run cap is a tmpfs, which only root can mount")
def test_the_output_cap_holds_during_the_run_and_nothing_is_left(huiyan, tmp_path):
    huiyan.env["HUIYAN_RUN_OUTPUT_MB"] = "8"
    team = ready_to_submit(huiyan, tmp_path)
    model = bundle(
        tmp_path,
        "filler",
        """
        import errno, os, sys
        out = os.environ["HUIYAN_OUTPUT"]
        try:
            for n in range(3):
                with open(f"{out}/big{n}", "wb") as handle:
                    handle.write(b"x" * (4 << 20))
        except OSError as error:
            sys.exit(error.errno)
        """,
    )
    ident = submit(huiyan, team, tmp_path, model=model)
    huiyan.ok("dispatcher", "--once")
    failure = failure_of(huiyan, ident)
    assert (failure["reason"], failure["exit_code"]) == ("crashed", 28)  # ENOSPC, mid-run
    runs = Path(huiyan.env["HUIYAN_HOME"]) / "runs"
    assert not runs.exists() or not any(runs.iterdir())


# --- 8. a uid per run; failures before the model starts are the platform's -----------------------


def test_each_run_leases_a_uid_of_its_own(tmp_path):
    with leased_uid(tmp_path / "leases") as first, leased_uid(tmp_path / "leases") as second:
        assert first != second
    with leased_uid(tmp_path / "leases") as again:
        assert again == first  # released at the end of the run


@pytest.mark.skipif(not ROOT, reason="uids are leased only when the worker is root")
def test_the_model_runs_as_its_leased_uid(huiyan, tmp_path):
    team = ready_to_submit(huiyan, tmp_path)
    model = bundle(
        tmp_path,
        "whoami",
        """
        import os
        out = os.environ["HUIYAN_OUTPUT"]
        open(out + "/predictions.json", "w").write('{"cases": []}')
        open(out + "/uid", "w").write(str(os.getuid()))
        """,
    )
    ident = submit(huiyan, team, tmp_path, model=model)
    huiyan.ok("dispatcher", "--once")
    inference = submission_of(huiyan, ident).inference
    folder = Path(huiyan.env["HUIYAN_HOME"]) / "predictions" / inference["output_sha256"]
    assert 200_000 <= int((folder / "uid").read_text()) < 201_000


def test_a_sandbox_that_fails_before_the_model_starts_is_a_platform_fault(tmp_path):
    real = ProcessSandbox()
    if real.isolation_problem:
        pytest.skip(real.isolation_problem)
    flaky = tmp_path / "bwrap"
    flaky.write_text(
        "#!/bin/sh\n"
        'case "$*" in *--info-fd*) echo "setpriv: failed to execute bwrap: '
        'Resource temporarily unavailable" >&2; exit 1;; esac\n'
        f'exec {real._bwrap} "$@"\n'
    )
    flaky.chmod(0o755)
    model = bundle(tmp_path, "fine", "print('never reached')\n")
    (tmp_path / "input").mkdir()
    (tmp_path / "output").mkdir()
    sandbox = ProcessSandbox(bwrap=str(flaky), allow_fallback=False)
    sandbox.__dict__["isolation_problem"] = None  # the host could isolate when it was probed
    with pytest.raises(SandboxError, match="failed before the model started"):
        sandbox.run(model, tmp_path / "input", tmp_path / "output", Limits(wall_seconds=30))


# --- 10. limits applied by helper programs, not in the forked worker ------------------------------


def test_limits_are_set_by_helper_programs_and_reach_the_model(tmp_path):
    argv = confinement_argv(
        Limits(cpu_seconds=77, open_files=99, output_bytes=1 << 20),
        cgroup_procs=("/sys/fs/cgroup/x/cgroup.procs",),
        address_space=None,
        own_uid=True,
        drop_to=None,
    )
    assert argv[:2] == ["/bin/sh", "-c"] and "cgroup.procs" in argv[2]
    assert "--cpu=77:78" in argv and "--nofile=99" in argv and argv[-1] == "--"
    model = bundle(
        tmp_path,
        "limits",
        """
        import resource
        print("NOFILE", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        print("CPU", resource.getrlimit(resource.RLIMIT_CPU)[0])
        """,
    )
    (tmp_path / "input").mkdir()
    (tmp_path / "output").mkdir()
    result = ProcessSandbox(allow_fallback=True).run(
        model, tmp_path / "input", tmp_path / "output", Limits(cpu_seconds=77, open_files=99)
    )
    assert b"NOFILE 99" in result.log and b"CPU 77" in result.log


def test_a_docker_worker_without_an_engine_refuses_to_start(huiyan, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    huiyan.env.update(HUIYAN_SANDBOX="docker", HUIYAN_REDIS_URL="redis://127.0.0.1:6379/9")
    result = huiyan("worker", "--burst")
    assert result.exit_code == 2
    assert "no usable Docker engine" in result.output


def test_a_prying_model_through_the_real_path_reaches_nothing_of_the_host(
    huiyan, tmp_path, canary_path
):
    """Planted secret, loopback listener, the hidden truth hashed before and after."""
    import hashlib
    import socket

    canary_path.write_text("a secret of the host")
    canary_path.chmod(0o644)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    team = ready_to_submit(huiyan, tmp_path)
    truth = next((Path(huiyan.env["HUIYAN_HOME"]) / "testsets").glob("*/truth/truth.json"))
    before = hashlib.sha256(truth.read_bytes()).hexdigest()
    model = bundle(
        tmp_path,
        "prying",
        f"""
        import json, os, socket
        seen = {{}}
        for name, path in (("canary", {str(canary_path)!r}), ("truth", {str(truth)!r})):
            try:
                seen[name] = open(path, "rb").read(20).decode(errors="replace")
            except OSError as error:
                seen[name] = type(error).__name__
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2)
            seen["listener"] = "connected"
        except OSError as error:
            seen["listener"] = type(error).__name__
        try:
            open({str(truth)!r}, "w").write("{{}}")
            seen["truth_written"] = True
        except OSError:
            seen["truth_written"] = False
        out = os.environ["HUIYAN_OUTPUT"]
        json.dump(seen, open(out + "/seen.json", "w"))
        open(out + "/predictions.json", "w").write('{{"cases": []}}')
        """,
    )
    ident = submit(huiyan, team, tmp_path, model=model)
    listener.settimeout(0.1)
    huiyan.ok("dispatcher", "--once")
    with pytest.raises(TimeoutError):
        listener.accept()  # nobody ever knocked
    listener.close()
    assert hashlib.sha256(truth.read_bytes()).hexdigest() == before
    inference = submission_of(huiyan, ident).inference
    folder = Path(huiyan.env["HUIYAN_HOME"]) / "predictions" / inference["output_sha256"]
    seen = json.loads((folder / "seen.json").read_text())
    assert seen["canary"] == "FileNotFoundError" and seen["truth"] == "FileNotFoundError"
    assert seen["listener"] != "connected" and seen["truth_written"] is False
    assert inference["sandbox_warnings"] == []
