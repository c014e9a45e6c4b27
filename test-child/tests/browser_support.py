"""A real browser for the tests that need one (the console): the distribution's Chromium, headless,
driven by Selenium through the distribution's chromedriver, and a live HTTP server for the app under
test (uvicorn in a thread on a free local port), because a browser speaks to a socket, not to an app.

Chromium and chromedriver come from Debian (`apt-get install chromium chromium-driver`: /usr/bin/chromium
and /usr/bin/chromedriver, the same version); nothing is downloaded at run time (Selenium Manager is
told to stay offline, and the driver and browser are given by path). A missing browser fails the
test with the command that installs it: browser tests are never skipped. Each browser gets a fresh
profile in the test's temporary folder and the flags of a quiet, headless, sandboxless run in a
container (no GPU, no QUIC, no first-run pages, no background network, updates or sync).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in a container: the setuid sandbox is not available
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a container's /dev/shm is small: use /tmp
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)
SERVER_START_SECONDS = 10.0
PAGE_LOAD_SECONDS = 30


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 and a free port for the time of the block; its base URL, named
    `localhost`: Chromium counts http://localhost as a secure origin, so the console's Secure cookies hold."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the live server did not start on port {port} within {SERVER_START_SECONDS:g} s")
        time.sleep(0.02)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_START_SECONDS)


def chromium_options(profile: Path) -> Any:
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return options


def missing_browser() -> str | None:
    """Why no browser can start here, with the command that fixes it; None when both binaries are there."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return None
    return f"{' and '.join(missing)} not found: install them with `apt-get install chromium chromium-driver`"


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless Chromium (a Selenium WebDriver) with a fresh profile, quit after the test."""
    problem = missing_browser()
    if problem:
        pytest.fail(problem)
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch a driver or a browser
    driver = start_chromium(tmp_path)
    try:
        yield driver
    finally:
        driver.quit()


def start_chromium(folder: Path) -> Any:
    """A headless Chromium (a Selenium WebDriver) with a fresh profile and the driver's log in `folder`;
    the caller quits it. Selenium Manager is kept offline by the caller (SE_OFFLINE=true)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    service = Service(str(CHROMEDRIVER), log_output=str(folder / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=chromium_options(folder / "chromium-profile"))
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    return driver
