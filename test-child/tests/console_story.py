"""A story for the console to show, recorded the way production records it, and the console serving it
on a real port.

The story goes through the webhook app (signed deliveries) and the agents' jobs, against the fake
GitHub of `fake_github_git`, with scripted models over HTTP: the Product Owner runs in process with the
real OpenAI-compatible provider, the Developer as the workflow's commands (claim, developer, publish),
the lifecycle as its command. Issue #7 is opened, the Product Owner asks, alice answers, the issue is
ready; the Developer's proposal is published as a draft pull request, which is merged, and the merge
commit's deployment is checked: deployed. Issue #8 is opened and the Product Owner asks about it.

`serve_console` serves the console app on `localhost` beside a fake GitHub web side (`console_support`:
the OAuth web flow, and the repository's API under /api/v3 answered by the same fake), so a browser
signs in as GitHub sends it back, and what the console does (resuming dispatches held jobs) reaches
the same fake GitHub as the webhook. Used by tests/test_console_browser.py and bench/console_screenshots.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from osorganicai.agents import ProductOwnerAgent
from osorganicai.config import ConsoleSettings, load_config
from osorganicai.console.app import create_console_app
from osorganicai.llm import DEFAULT_MODELS
from osorganicai.service import Service

from .browser_support import live_server
from .console_support import FakeGitHubWeb, console_settings
from .developer_support import BUGGY_LINE, FIXED_LINE
from .fake_github_git import FakeGitHubGit
from .fake_models import Say, ScriptedModel
from .test_story import BOT, ISSUE, QUESTIONS, READY, Story, a_shop

WRITER = "alice"  # the issues' author, with write access
READER = "mallory"  # read access: sees the console, may not act
WAITING_ISSUE = 8
WAITING_TITLE = "Gift cards at checkout"
MONTHLY_BUDGET_USD = 5.0
GIFT_CARD_QUESTIONS = {
    "needs_clarification": True,
    "questions": ["Which currencies may a gift card hold?", "May a card pay part of an order?"],
    "refined_description": "",
    "is_complete": False,
}
GIFT_CARD_READY = {
    "needs_clarification": False,
    "questions": [],
    "refined_description": "A gift card pays all or part of an order, in EUR.\n\n- [ ] a 20 EUR card pays 20 of a 50 EUR order",
    "is_complete": True,
}


class ConsoleStory(Story):
    """The story test's repository, webhook and workflows, with the steps the console's story needs."""

    def open_issue(self, number: int, title: str, body: str) -> uuid.UUID:
        """The writer opens an issue: the webhook queues the Product Owner."""
        issue = self.github.add_issue(number, title, body, author=WRITER)
        payload = self.payload(
            "issues.opened.payload.json", issue=dict(issue, author_association="NONE"), sender=self.person(WRITER)
        )
        return self.queued("issues", payload, "product_owner")

    def answer(self, number: int, text: str) -> uuid.UUID:
        """The writer answers on the issue: the webhook queues the Product Owner again."""
        comment = self.github.add_comment(number, text, login=WRITER)
        payload = self.payload(
            "issue_comment.created.payload.json", issue=dict(self.github.issues[number]), sender=self.person(WRITER)
        )
        payload["comment"].update(comment, author_association="NONE")
        return self.queued("issue_comment", payload, "product_owner")

    def ready_for_dev_delivery(self, number: int) -> dict[str, Any]:
        """What GitHub sends when the runtime has labelled the issue ready-for-dev (the webhook's answer)."""
        payload = self.payload(
            "issues.labeled.payload.json",
            issue=dict(self.github.issues[number]),
            label={"name": "ready-for-dev"},
            sender={"login": BOT, "type": "Bot"},
        )
        return self.deliver("issues", payload)

    def product_owner_job(self, job_id: uuid.UUID, number: int, answer: dict[str, Any]) -> str:
        """The Product Owner's job on `number`, its model (the runtime's default OpenAI model) a scripted
        server speaking OpenAI's wire format: the outcome."""
        assert self.store.start_job(job_id) is not None
        script = [Say(answer=answer, input_tokens=2_400, output_tokens=180)]
        with ScriptedModel("openai", script, model=DEFAULT_MODELS["openai"]) as model:
            agent = ProductOwnerAgent(
                repository=self.github.repository,
                settings=self.settings,
                config=load_config(self.root / "no-config"),
                store=self.store,
                github=self.github.client(),
                llm=model.provider(),
                job_id=job_id,
            )
            outcome = agent.run(number).outcome
        self.store.finish_job(job_id, succeeded=True)
        return outcome

    @staticmethod
    def person(login: str) -> dict[str, str]:
        return {"login": login, "type": "User"}


def issue_seven_to_deployed(story: ConsoleStory, deployment_url: str) -> None:
    """#7: opened, a question, the answer, ready; a draft pull request; merged; its deployment checked."""
    job = story.open_issue(ISSUE, "Discounts raise the price", "apply_discount adds the percentage.")
    assert story.product_owner_job(job, ISSUE, QUESTIONS) == "asked"
    assert story.product_owner_job(story.answer(ISSUE, "Off the price."), ISSUE, READY) == "ready"
    job = uuid.UUID(story.ready_for_dev_delivery(ISSUE)["job"])
    fix_the_bug = [
        Say([("str_replace", {"path": "shop/pricing.py", "old_str": BUGGY_LINE, "new_str": FIXED_LINE})]),
        Say([("finish", {"summary": "Take the discount off.", "title": "Take discounts off the price"})]),
    ]
    assert story.developer_workflow(job, fix_the_bug, "develop")["mode"] == "developer"
    pull = story.pull()
    assert pull["draft"] is True
    story.github.close_pull(pull["number"], merged=True)
    closed = story.pull_event("pull_request.closed.payload.json", pull_request={"merged": True})
    assert "done" in story.lifecycle(story.queued("pull_request", closed, "lifecycle"))
    deployed = story.payload("deployment_status.payload.json")
    deployed["deployment"].update(ref="main", sha=story.pull()["merge_commit_sha"])
    deployed["deployment_status"].update(state="success", environment_url=deployment_url)
    assert "deployed" in story.lifecycle(story.queued("deployment_status", deployed, "lifecycle"))


def issue_eight_asked(story: ConsoleStory) -> None:
    """#8: opened; the Product Owner asks two questions and waits for the answer."""
    job = story.open_issue(WAITING_ISSUE, WAITING_TITLE, "Customers want to pay with the gift cards we sell.")
    assert story.product_owner_job(job, WAITING_ISSUE, GIFT_CARD_QUESTIONS) == "asked"


def seed_console_story(github: FakeGitHubGit, database: str, store: Any, root: Path, deployment_url: str) -> ConsoleStory:
    """The shop on the fake GitHub, #7 taken to deployed and #8 waiting for an answer; the story, to go on."""
    a_shop(github)
    github.permissions.update({READER: "read"})
    story = ConsoleStory(github, database, store, root)
    issue_seven_to_deployed(story, deployment_url)
    issue_eight_asked(story)
    return story


@dataclass
class ServedConsole:
    url: str  # the console's base address (http://localhost:PORT)
    github_web: FakeGitHubWeb  # who is signed in to GitHub, and what the browser asked of it


@contextmanager
def serve_console(database: str, store: Any, root: Path, github: FakeGitHubGit | None = None) -> Iterator[ServedConsole]:
    """The console on a real port, signing in through a fake GitHub's web side: the story's GitHub when
    given (the repository's API answered by it), else console_support's own (`seed_story`'s repository,
    the writer and the reader as collaborators). The config is the defaults under `root` with a monthly cap."""
    if github is None:
        github_web = FakeGitHubWeb(permissions={WRITER: "write", READER: "read"})
        repository_settings: dict[str, str] = {}
    else:
        github_web = FakeGitHubWeb(repository=github.repository, runtime_token=github.token, api=github)
        repository_settings = {"GITHUB_REPOSITORY": github.repository, "GITHUB_TOKEN": github.token, "OSORGANIC_BOT_LOGIN": BOT}
    github_web.signed_in_as = WRITER
    with github_web.serve() as github_web_url:
        settings = console_settings(database, github_web_url, **repository_settings)
        config = replace(load_config(root), console=ConsoleSettings(monthly_budget_usd=MONTHLY_BUDGET_USD))
        app = create_console_app(Service(settings=settings, store=store), config=config)
        with live_server(app) as url:
            github_web.callback_url = f"{url}/console/auth/callback"
            yield ServedConsole(url, github_web)
