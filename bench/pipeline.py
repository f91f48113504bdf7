"""Pipeline benchmark: submissions per minute end to end, sandbox start-up overhead, and the
time from a submission to its recorded score. Prints, asserts nothing.

    .venv/bin/python -m bench.pipeline [--submissions 6] [--cases 8] [--track 7]

Embedded default (SQLite ledger, jobs run in the dispatcher's process, one at a time), the
process sandbox (bubblewrap) and the track's baseline model on synthetic data.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from demo.cli import ROUND_OPEN, blank_pdf
from demo.registration import demo_organiser, play_registration
from domain.registration import Registration
from domain.submissions import Submissions
from ledger.application import open_application
from ledger.settings import Settings
from scoring.baselines import bundle_path
from scoring.synth import make_dataset
from services.desk import Desk
from services.submissions import RoundDesk, add_testset, submit_model
from workers.pipeline import FUNCTIONS, dispatch_once, open_dispatcher
from workers.queues import InlineJobQueue
from workers.sandbox import Limits
from workers.sandbox.process import ProcessSandbox

QUOTA_PER_DAY = 3


def sandbox_overhead(tmp: Path, runs: int = 10) -> tuple[float, float]:
    """Median seconds of an empty model through the sandbox, and of a bare interpreter."""
    bundle, data, output = tmp / "empty", tmp / "in", tmp / "out"
    bundle.mkdir()
    data.mkdir()
    (bundle / "predict.py").write_text("pass\n")
    sandboxed, bare = [], []
    for _ in range(runs):
        output.mkdir()
        started = time.perf_counter()
        ProcessSandbox().run(bundle, data, output, Limits(wall_seconds=30, memory_bytes=1 << 30))
        sandboxed.append(time.perf_counter() - started)
        shutil.rmtree(output)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(bundle / "predict.py")], check=True)
        bare.append(time.perf_counter() - started)
    return statistics.median(sandboxed), statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=6)
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--track", type=int, default=7, choices=(7, 8))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(HUIYAN_HOME=f"{tmp}/home", HUIYAN_DATABASE_URL="", HUIYAN_REDIS_URL="")
        settings = Settings.from_env()
        registration = open_application(Registration, settings)
        summary = play_registration(settings, registration)
        team = next(t["id"] for t in summary["teams"].values() if args.track in
                    registration.team(t["id"]).tracks)  # fmt: skip
        desk = dataclasses.replace(Desk.open(), now=ROUND_OPEN)
        round_desk = RoundDesk(desk, open_application(Submissions, settings))
        organiser = demo_organiser(registration, desk.vault)
        testset = make_dataset(args.track, args.cases, Path(tmp) / "testset", seed=1)
        add_testset(round_desk, desk.contest(None), args.track, testset, organiser)
        report = blank_pdf(Path(tmp) / "report.pdf")
        dispatcher = open_dispatcher(settings, InlineJobQueue(FUNCTIONS))

        # One submission, from the submit command to its recorded score.
        started = time.perf_counter()
        submit_model(round_desk, team, args.track, str(bundle_path(args.track)), report, organiser)
        dispatch_once(settings, dispatcher)
        first = time.perf_counter() - started

        # A batch, over as many days as the quota needs, then all run.
        for number in range(args.submissions):
            day = ROUND_OPEN + timedelta(days=1 + number // QUOTA_PER_DAY)
            round_desk.desk = dataclasses.replace(desk, now=day)
            submit_model(
                round_desk, team, args.track, str(bundle_path(args.track)), report, organiser
            )
        started = time.perf_counter()
        dispatch_once(settings, dispatcher)
        batch = time.perf_counter() - started
        scored = sum(s.score is not None for s in round_desk.submissions.submissions())
        sandboxed, bare = sandbox_overhead(Path(tmp))
    print(f"cores {os.cpu_count()}, track {args.track}, {args.cases} cases per test set")
    print(f"submission to recorded score (one)   {first:6.1f} s")
    rate = 60 * args.submissions / batch
    print(f"end to end, {args.submissions} submissions      {batch:6.1f} s = {rate:.1f}/min")
    print(f"submissions scored in all            {scored}")
    print(f"sandbox start-up overhead            {sandboxed - bare:6.3f} s")
    print(f"  (empty model {sandboxed:.3f} s vs bare python {bare:.3f} s, medians of 10)")


if __name__ == "__main__":
    main()
