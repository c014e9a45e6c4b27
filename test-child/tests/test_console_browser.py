"""The console in a real browser (the distribution's headless Chromium driven by Selenium, `browser_support`).

A person with write access signs in through GitHub's OAuth web flow (the fake GitHub sends the browser
back as GitHub does), sees the story recorded by the webhook and the jobs (`console_story`) on the
Pipeline and Issue pages, sees a new action appear without a reload within 5 s, pauses the agents with
the switch and sees it hold (a delivery is stored, its job held, nothing dispatched) until they resume,
which dispatches the held job. A person with read access sees the pages without a button, and a POST
of theirs is refused.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from osorganicai.console import auth
from osorganicai.interventions import pause_state
from osorganicai.labels import RUNTIME_MARKER

from . import browser_support
from .console_story import (
    GIFT_CARD_READY,
    READER,
    WAITING_ISSUE,
    WRITER,
    ServedConsole,
    seed_console_story,
    serve_console,
)
from .console_support import seed_story
from .fake_github_git import FakeGitHubGit
from .lifecycle_support import deployment_fixture  # noqa: F401 - the fixture is used by name
from .test_story import BOT, ISSUE

browser = browser_support.browser
LIVE_UPDATE_SECONDS = 5.0  # the console's promise: what changes shows within 5 s, without a reload
WAIT_SECONDS = 10.0  # an ordinary page step (a navigation, a redirect chain)
POLL_SECONDS = 0.05


# -- what a person does in the browser --------------------------------------------------------------------
# The live view replaces the page's content every time it changes (and at least once a minute, as ages
# move): elements are read in one script call, and found again when a click meets a replaced one.
def wait(driver: Any, seconds: float = WAIT_SECONDS) -> WebDriverWait:
    return WebDriverWait(driver, seconds, poll_frequency=POLL_SECONDS, ignored_exceptions=(StaleElementReferenceException,))


def texts(driver: Any, selector: str) -> list[str]:
    """The rendered text of every element matching `selector`, read at one moment."""
    script = "return Array.from(document.querySelectorAll(arguments[0]), node => (node.innerText ?? node.textContent).trim());"
    return driver.execute_script(script, selector)


def live_text(driver: Any) -> str:
    return "\n".join(texts(driver, "#live"))


def click(driver: Any, by: str, selector: str, expected_text: str) -> None:
    """Click the element `selector` once it reads `expected_text` (found again if the live view replaced it)."""

    def clicked(driver: Any) -> bool:
        element = driver.find_element(by, selector)
        if element.text != expected_text:
            return False
        element.click()
        return True

    wait(driver).until(clicked, message=f"no {selector!r} reading {expected_text!r} to click")


def sign_in(driver: Any, console: ServedConsole, login: str) -> None:
    """Open the console signed out: to sign-in, GitHub's authorize page, back to the callback, the pipeline."""
    console.github_web.signed_in_as = login
    driver.get(f"{console.url}/console")
    wait(driver).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "form.who span")))
    assert driver.current_url == f"{console.url}/console"
    assert ("GET", "/login/oauth/authorize") in console.github_web.requests
    assert ("POST", "/login/oauth/access_token") in console.github_web.requests
    cookie = driver.get_cookie(auth.SESSION_COOKIE)
    assert cookie is not None and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"


def who(driver: Any) -> str:
    return texts(driver, "form.who span")[0]


def pipeline_row(driver: Any, number: int) -> str:
    """The text of the pipeline's row for issue `number` (in flight or finished)."""
    rows = [row for row in texts(driver, "table.pipeline tbody tr") if row.split()[0] == f"#{number}"]
    assert rows, f"no row for #{number} in {live_text(driver)!r}"
    return rows[0]


def summary(driver: Any) -> str:
    """The Issue page's line under its title: the stage, for how long, why."""
    return texts(driver, "p.summary")[0]


def open_issue_from_the_pipeline(driver: Any, console: ServedConsole, number: int) -> None:
    driver.get(f"{console.url}/console")
    click(driver, By.LINK_TEXT, f"#{number}", f"#{number}")
    wait(driver).until(expected_conditions.url_to_be(f"{console.url}/console/issues/{number}"))
    wait(driver).until(expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), f"#{number}"))


def timeline(driver: Any) -> list[str]:
    """The Issue page's timeline, oldest first, one `who what` per action (its line reads `when · who · what: decided`)."""
    lines = [line.split(" · ") for line in texts(driver, "ol.timeline p.meta")]
    return [f"{line[1]} {line[2].split(':')[0]}" for line in lines if len(line) >= 3]


def flip_the_switch(driver: Any, button_text: str, shown: str) -> None:
    """Click the pause switch's button, confirm the browser's question, and wait for the page to show `shown`."""
    click(driver, By.CSS_SELECTOR, "section.switch button", button_text)
    wait(driver).until(expected_conditions.alert_is_present()).accept()
    wait(driver).until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "section.switch strong"), shown))


def clipped_chart_labels(driver: Any) -> list[str]:
    """The texts of the page's charts that the browser lays out (partly) outside their chart's box."""
    script = """
        const clipped = [];
        for (const chart of document.querySelectorAll('svg.chart')) {
          const box = chart.viewBox.baseVal;
          for (const text of chart.querySelectorAll('text')) {
            const drawn = text.getBBox();
            if (drawn.x < box.x || drawn.x + drawn.width > box.x + box.width) clipped.push(text.textContent);
          }
        }
        return clipped;"""
    return driver.execute_script(script)


def mark_the_document(driver: Any) -> None:
    """A mark on this document's window: still there later means the page was not reloaded."""
    driver.execute_script("window.consoleTestMark = 'same document';")


def still_the_same_document(driver: Any) -> bool:
    return driver.execute_script("return window.consoleTestMark;") == "same document"


def post_from_the_page(driver: Any, path: str, form: dict[str, str]) -> tuple[int, str]:
    """A POST sent by the page's own script (same origin, the session cookie): its status and text."""
    return tuple(
        driver.execute_async_script(
            "const [path, form, done] = arguments;"
            "fetch(path, {method: 'POST', body: new URLSearchParams(form), redirect: 'manual', credentials: 'same-origin'})"
            ".then(answer => answer.text().then(text => done([answer.status, text])), error => done([0, String(error)]));",
            path,
            form,
        )
    )


# -- what the runtime recorded ----------------------------------------------------------------------------
def job_row(database: str, job_id: str) -> tuple[str, str | None]:
    with psycopg.connect(database) as connection:
        row = connection.execute("select status, last_error from public.jobs where id = %s", (uuid.UUID(job_id),)).fetchone()
    assert row is not None
    return row


def person_actions(database: str) -> list[tuple[str, str]]:
    with psycopg.connect(database) as connection:
        return connection.execute(
            "select agent, action_type from public.agent_actions where payload->>'actor_kind' = 'person' order by id"
        ).fetchall()


# -- the tests --------------------------------------------------------------------------------------------
def test_a_writer_signs_in_watches_the_story_live_and_pauses_the_agents(
    browser, tmp_path: Path, database: str, store, deployment: str
) -> None:
    with FakeGitHubGit(tmp_path / "github", bot_login=BOT) as github:
        story = seed_console_story(github, database, store, tmp_path, deployment)
        with serve_console(database, store, tmp_path / "no-config", github) as console:
            sign_in(browser, console, WRITER)
            assert who(browser) == f"{WRITER} · write access"

            # The pipeline: #8 waits for an answer, #7 went all the way to deployed.
            assert "asking" in pipeline_row(browser, WAITING_ISSUE) and "Gift cards at checkout" in live_text(browser)
            assert "deployed" in pipeline_row(browser, ISSUE) and "Discounts raise the price" in live_text(browser)

            # #7's Issue page: its timeline from the first question to the deployment.
            open_issue_from_the_pipeline(browser, console, ISSUE)
            steps = timeline(browser)
            for expected in [
                "product_owner asked_questions",
                "product_owner marked_ready",
                "developer publish_published",
                "lifecycle done",
                "lifecycle deployed",
            ]:
                assert expected in steps, (expected, steps)
                steps = steps[steps.index(expected) + 1 :]
            assert "Take discounts off the price" in live_text(browser)  # the proposal's title, with its run
            conversation = texts(browser, "ol.conversation li")
            assert "1. Off the price or the total?" in conversation[0] and conversation[1].endswith("Off the price.")
            assert not any(RUNTIME_MARKER in message for message in conversation)  # hidden on GitHub, hidden here

            # The Costs page: the story's spend per agent, per model and per issue, every label inside its chart.
            click(browser, By.LINK_TEXT, "Costs", "Costs")
            wait(browser).until(expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Costs"))
            costs = live_text(browser)
            assert "Monthly budget $5.00" in costs and "product_owner" in costs and "developer" in costs
            assert len(texts(browser, "svg.chart")) >= 5 and clipped_chart_labels(browser) == []

            # #8's Issue page, open while alice answers and the Product Owner marks it ready: shown live.
            open_issue_from_the_pipeline(browser, console, WAITING_ISSUE)
            assert "asking" in summary(browser)
            assert "product_owner marked_ready" not in timeline(browser)
            mark_the_document(browser)
            started = time.monotonic()
            job = story.answer(WAITING_ISSUE, "EUR only; and yes, a card may pay part of an order.")
            assert story.product_owner_job(job, WAITING_ISSUE, GIFT_CARD_READY) == "ready"
            recorded = time.monotonic()
            wait(browser, LIVE_UPDATE_SECONDS).until(
                lambda driver: "product_owner marked_ready" in timeline(driver),
                message=f"the Product Owner's marked_ready did not show within {LIVE_UPDATE_SECONDS:g} s without a reload",
            )
            seen = time.monotonic()
            assert still_the_same_document(browser)
            assert "ready" in summary(browser)
            after_the_answer, after_the_action = seen - started, seen - recorded
            print(f"\nlive update: shown {after_the_action:.2f} s after the action, {after_the_answer:.2f} s after the answer")
            assert after_the_answer <= LIVE_UPDATE_SECONDS

            # Pause with the switch: the page says so, and the switch holds a new delivery's job.
            flip_the_switch(browser, "Pause agents", "Agents paused")
            assert pause_state(store).paused and pause_state(store).changed_by == WRITER
            dispatched_before = list(github.dispatches)
            mark_the_document(browser)
            answer = story.ready_for_dev_delivery(WAITING_ISSUE)
            assert answer["status"] == "queued" and answer["kind"] == "developer" and answer["dispatched"] is False
            assert f"paused by {WRITER}" in answer["detail"]
            assert github.dispatches == dispatched_before  # stored, not handed to the workflow
            status, held = job_row(database, answer["job"])
            assert status == "pending" and held is not None and held.startswith(f"held: the agents were paused by {WRITER}")
            wait(browser, LIVE_UPDATE_SECONDS).until(
                lambda driver: "held: the agents were paused" in live_text(driver),
                message=f"the held Developer job did not show within {LIVE_UPDATE_SECONDS:g} s without a reload",
            )
            assert still_the_same_document(browser)

            # Resume: the held job goes out to the workflow, once.
            flip_the_switch(browser, "Resume agents", "Agents running")
            assert not pause_state(store).paused
            assert github.dispatches[len(dispatched_before) :] == [
                {"event_type": "agent-developer", "client_payload": github.dispatches[-1]["client_payload"]}
            ]
            assert github.dispatches[-1]["client_payload"]["job_id"] == answer["job"]
            assert person_actions(database) == [(WRITER, "agents_paused"), (WRITER, "agents_resumed")]


def test_a_reader_sees_the_pages_without_buttons_and_is_refused_a_post(browser, tmp_path: Path, database: str, store) -> None:
    seed_story(store)  # issues #7 (asking), #8 (in review) and #9 (a failed job a writer could retry)
    with serve_console(database, store, tmp_path / "no-config") as console:
        sign_in(browser, console, READER)
        assert who(browser) == f"{READER} · read access"
        assert "in review" in pipeline_row(browser, 8) and "needs a person" in pipeline_row(browser, 9)
        open_issue_from_the_pipeline(browser, console, 9)
        assert "provider refused the request" in live_text(browser)
        for page in ("/console", "/console/issues/9", "/console/costs", "/console/health"):
            browser.get(f"{console.url}{page}")
            wait(browser).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#live h1")))
            buttons = texts(browser, "button")
            assert buttons == ["Sign out"], (page, buttons)

        csrf = browser.find_element(By.CSS_SELECTOR, "form.who input[name=csrf]").get_attribute("value")
        status, text = post_from_the_page(browser, "/console/actions/pause", {"csrf": csrf, "return_to": "/console"})
        assert status == 403 and f"{READER} has read access" in text
        status, text = post_from_the_page(browser, "/console/actions/pause", {"return_to": "/console"})
        assert status == 403 and "CSRF token is missing or wrong" in text
    assert not pause_state(store).paused
    assert person_actions(database) == []
