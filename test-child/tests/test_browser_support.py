"""The real-browser setup the console's browser tests stand on (`tests/browser_support.py`): the
distribution's headless Chromium, driven by Selenium, loads a page from the live server and runs
JavaScript that calls the server back, as the console's live view does."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By

from osorganicai import __version__
from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.webhook import create_app

from . import browser_support
from .browser_support import CHROMIUM_FLAGS, live_server

browser = browser_support.browser


def test_headless_chromium_loads_a_page_from_the_live_server_and_runs_its_javascript(browser, store, database: str) -> None:
    settings = Settings.from_env({"DATABASE_URL": database, "GITHUB_REPOSITORY": "Codertocat/Hello-World"})
    with live_server(create_app(Service(settings=settings, store=store))) as url:
        browser.get(f"{url}/api/health")
        page = json.loads(browser.find_element(By.TAG_NAME, "body").text)
        assert page["database"] == "reachable" and page["version"] == __version__
        fetched = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/api/health').then(answer => answer.json()).then(body => done(body.database), error => done(String(error)));"
        )
        assert fetched == "reachable"
    user_agent = browser.execute_script("return navigator.userAgent")
    assert "HeadlessChrome" in user_agent and "--headless" in CHROMIUM_FLAGS


def test_a_missing_browser_names_the_packages_that_install_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(browser_support, "CHROMIUM", tmp_path / "no-chromium")
    problem = browser_support.missing_browser()
    assert problem is not None and str(tmp_path / "no-chromium") in problem
    assert "apt-get install chromium chromium-driver" in problem
