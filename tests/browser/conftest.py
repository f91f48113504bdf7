"""Fixtures of the real-browser tests (tests/browser/harness.py): the contest served on a free
loopback port from a thread, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from werkzeug.serving import make_server

from tests.browser.harness import (
    CHROMIUM,
    LANGUAGES,
    WIDTHS,
    Live,
    Screen,
    open_screen,
    probe_blueprint,
)
from tests.flows import REGISTRATION_TIME
from tests.web.conftest import registered  # noqa: F401  (the contest, one person per role)


@pytest.fixture(scope="module")
def live(registered) -> Iterator[Live]:  # noqa: F811
    """The module's contest served on a free loopback port by werkzeug, in a thread (with
    the probe page, harness.probe_blueprint)."""
    app = registered.app
    app.register_blueprint(probe_blueprint())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{server.server_port}", datetime.fromisoformat(
            REGISTRATION_TIME))  # fmt: skip
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.fail("Chromium is missing: `make browser` installs it (deploy/browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(params=[(lang, width) for lang in LANGUAGES for width in WIDTHS],
                ids=lambda p: f"{p[0]}-{p[1]}")  # fmt: skip
def screen(request, chromium, live) -> Iterator[Screen]:
    """Every language at every width."""
    yield from open_screen(chromium, live, *request.param)


@pytest.fixture(params=LANGUAGES)
def wide(request, chromium, live) -> Iterator[Screen]:
    """Every language, 1280 px only (for what the width does not change)."""
    yield from open_screen(chromium, live, request.param, 1280)
