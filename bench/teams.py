"""Simulated teams for bench/system.py: each an httpx client of its own (asyncio) that signs
in through the sign-in form, uploads a model bundle and a report through the submissions form,
polls its submission's status as the status page's script does until a result is final, and
reads its results page. What they see is kept in one ``Observed``.

Each team comes from an address of its own (X-Forwarded-For, the bench playing the
TLS-ending proxy). A request that fails for the platform (a 5xx, a 429, a dropped connection)
is tried again after a pause, as a person would; a refusal is not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import tarfile
import time
from collections import Counter, defaultdict
from html import unescape
from typing import Any

import httpx

from scoring.baselines import bundle_path

ATTEMPTS = 6  # tries of one step after a platform failure
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_FLASH = re.compile(r'<p class="flash error"[^>]*>([^<]*)</p>')


@dataclasses.dataclass(frozen=True)
class Team:
    login: str
    password: str
    address: str  # the team's browser, as the proxy reports it (X-Forwarded-For)


@dataclasses.dataclass(frozen=True)
class Visit:
    """What every team sends and how often it looks."""

    base: str  # the site, http://127.0.0.1:PORT
    track: int
    bundle: bytes  # the model, a .tar.gz of the bundle folder
    report: bytes  # the technical report, a PDF
    poll: float  # seconds between two looks at the status


@dataclasses.dataclass
class Observed:
    """What the teams saw: times in ms per kind of request, answers, submissions."""

    started: float = dataclasses.field(default_factory=time.monotonic)
    times: defaultdict[str, list[float]] = dataclasses.field(
        default_factory=lambda: defaultdict(list)
    )
    answers: Counter = dataclasses.field(default_factory=Counter)  # (kind, status)
    accepted: dict[str, str] = dataclasses.field(default_factory=dict)  # submission -> login
    stopped: Counter = dataclasses.field(default_factory=Counter)  # why a team stopped
    final: dict[str, str] = dataclasses.field(default_factory=dict)  # submission -> status
    waited: list[float] = dataclasses.field(default_factory=list)  # upload to result, s
    results_read: int = 0
    last_result: float = 0.0
    faults: list[str] = dataclasses.field(default_factory=list)  # the faults played

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class StepFailed(Exception):
    """A team could not go on: a refusal, or the platform never answered."""


def bundle_archive(track: int) -> bytes:
    """The track's baseline bundle as a team uploads it: a .tar.gz of the bundle folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        folder = bundle_path(track)
        archive.add(folder, arcname=folder.name)
    return buffer.getvalue()


class Journey:
    """One team's visit: sign in, upload, poll until final, read the results page."""

    def __init__(self, client: httpx.AsyncClient, team: Team, seen: Observed) -> None:
        self.client, self.team, self.seen = client, team, seen

    async def request(self, kind: str, method: str, path: str, **sent: Any) -> httpx.Response:
        """One request, timed; a platform failure is tried again, up to ATTEMPTS times."""
        for attempt in range(ATTEMPTS):
            started = time.perf_counter()
            try:
                answer = await self.client.request(method, path, **sent)
            except httpx.TransportError as error:
                self.seen.answers[(kind, type(error).__name__)] += 1
            else:
                self.seen.times[kind].append((time.perf_counter() - started) * 1000)
                self.seen.answers[(kind, answer.status_code)] += 1
                if answer.status_code < 500 and answer.status_code != 429:
                    return answer
            await asyncio.sleep(2 * (attempt + 1))
        raise StepFailed(f"{kind}: no answer after {ATTEMPTS} tries")

    async def form_token(self, kind: str, path: str) -> str:
        page = await self.request(kind, "GET", path)
        found = _TOKEN.search(page.text)
        if found is None:
            raise StepFailed(f"{kind}: no form on {path} ({page.status_code})")
        return unescape(found.group(1))

    async def run(self, visit: Visit) -> None:
        token = await self.form_token("sign-in page", "/sign-in")
        form = {"login": self.team.login, "password": self.team.password, "code": "",
                "csrf_token": token}  # fmt: skip
        answer = await self.request("sign-in", "POST", "/sign-in", data=form)
        if answer.status_code != 302:
            raise StepFailed(f"sign-in refused: {said(answer)}")
        token = await self.form_token("submissions page", "/team/submissions")
        answer = await self.request(
            "upload", "POST", "/team/submissions",
            data={"csrf_token": token, "track": str(visit.track), "image": ""},
            files={"bundle": ("model.tar.gz", visit.bundle, "application/gzip"),
                   "report": ("report.pdf", visit.report, "application/pdf")},
        )  # fmt: skip
        if answer.status_code != 302:
            raise StepFailed(f"upload refused: {said(answer)}")
        submission = answer.headers["location"].rsplit("/", 1)[1]
        self.seen.accepted[submission] = self.team.login
        uploaded = time.monotonic()
        while True:
            await asyncio.sleep(visit.poll)
            answer = await self.request(
                "status", "GET", f"/team/submissions/{submission}/status.json"
            )
            view = answer.json() if answer.status_code == 200 else {}
            if view.get("final"):
                self.seen.final[submission] = view["status"]
                self.seen.waited.append(time.monotonic() - uploaded)
                self.seen.last_result = self.seen.elapsed()
                break
        page = await self.request("results", "GET", "/team/results")
        self.seen.results_read += page.status_code == 200


def said(answer: httpx.Response) -> str:
    found = _FLASH.search(answer.text)
    return unescape(found.group(1)) if found else f"status {answer.status_code}"


async def one_team(team: Team, visit: Visit, seen: Observed, start_in: float) -> None:
    await asyncio.sleep(start_in)
    headers = {"X-Forwarded-For": team.address, "Accept-Language": "en"}
    async with httpx.AsyncClient(base_url=visit.base, headers=headers, timeout=300) as client:
        try:
            await Journey(client, team, seen).run(visit)
        except StepFailed as failed:
            seen.stopped[str(failed)[:120]] += 1
