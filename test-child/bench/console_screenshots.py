"""Take the README's screenshots of the console: the Pipeline, Issue and Costs pages of a seeded story.

The story is the browser test's (`tests/console_story.py`): issue #7 asked, answered, made ready,
developed into a draft pull request, merged and deployed; issue #8 asked and waiting, all recorded by
the webhook and the jobs with scripted models against the fake GitHub, in a temporary PostgreSQL
server (as `bench/console.py` starts one) or DATABASE_URL (an empty, migrated database). The console
is served on localhost, a headless Chromium (`tests/browser_support.py`) signs in through the fake
GitHub's OAuth web flow as a writer and saves each page, 1280 px wide and cut at the height in `PAGES`
when it is longer, as `docs/console-pipeline.png`, `docs/console-issue.png` and `docs/console-costs.png`.

Usage: python bench/console_screenshots.py [output folder, default docs/]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from bench.console import temporary_database  # noqa: E402
from osorganicai.db import Store  # noqa: E402
from tests.browser_support import missing_browser, start_chromium  # noqa: E402
from tests.console_story import WAITING_ISSUE, seed_console_story, serve_console  # noqa: E402
from tests.fake_github_git import FakeGitHubGit  # noqa: E402
from tests.lifecycle_support import healthy_deployment  # noqa: E402
from tests.test_story import BOT, ISSUE  # noqa: E402

WIDTH = 1280
CONTENT_PADDING = 24  # below the page's last line
CONTENT_BOTTOM = (  # where the page's last element ends
    "const live = document.getElementById('live');"
    "return Math.ceil((live.lastElementChild || live).getBoundingClientRect().bottom);"
)
# (file name, page, the tallest the picture may be: each PNG stays under ~150 kB)
PAGES = (
    ("console-pipeline.png", "/console", 900),
    ("console-issue.png", f"/console/issues/{ISSUE}", 1300),
    ("console-costs.png", "/console/costs", 1400),
)


@contextmanager
def database() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
    else:
        with temporary_database() as conninfo:
            yield conninfo


def sign_in(driver: Any, console_url: str) -> None:
    """Through /console/login, the fake GitHub's authorize page and the callback, to the pipeline."""
    driver.get(f"{console_url}/console")
    WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "form.who span")))


def screenshot(driver: Any, url: str, height: int, path: Path) -> tuple[int, int]:
    """The page at `url` in a viewport `WIDTH` wide, down to `height` pixels at most (less when the page
    ends sooner), saved as a PNG; its height and size in bytes."""
    driver.get(url)
    WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#live h1")))
    viewport = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", viewport)
    content_height = driver.execute_script(CONTENT_BOTTOM)
    shown = min(height, content_height + CONTENT_PADDING)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**viewport, "height": shown})
    path.write_bytes(driver.get_screenshot_as_png())
    return shown, path.stat().st_size


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    problem = missing_browser()
    if problem:
        sys.exit(problem)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a driver or a browser
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="osorganic-screenshots-")))
        conninfo = stack.enter_context(database())
        store = Store(conninfo)
        stack.callback(store.close)
        github = stack.enter_context(FakeGitHubGit(root / "github", bot_login=BOT))
        deployment = stack.enter_context(healthy_deployment())
        story = seed_console_story(github, conninfo, store, root, deployment)
        print(f"seeded: #{ISSUE} deployed, #{WAITING_ISSUE} asking; {len(story.actions())} actions recorded")
        console = stack.enter_context(serve_console(conninfo, store, root / "no-config", github))
        driver = start_chromium(root)
        stack.callback(driver.quit)
        sign_in(driver, console.url)
        for name, page, height in PAGES:
            shown, size = screenshot(driver, f"{console.url}{page}", height, out / name)
            print(f"{out / name}: {WIDTH}x{shown}, {size:,} bytes")


if __name__ == "__main__":
    main()
