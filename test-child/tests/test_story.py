"""The whole story after an issue is filed, against a fake GitHub that keeps state (a real bare git
repository behind it), the webhook app, a real database, the agent commands the workflows run, and
scripted models:

1. the issue is opened; the Product Owner asks, the author answers, the issue becomes ready-for-dev;
2. the Developer's proposal is published as a draft pull request;
3. a red check suite starts a fix run; a green one makes the pull request ready for review;
4. a change request starts a revise run that replies in the review thread;
5. the merge closes the issue and ends the conversation;
6. the default branch's deployment of the merge commit is checked and commented on the issue, which is
   then deployed; every step in `agent_actions`.
"""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from osorganicai.agents import ProductOwnerAgent
from osorganicai.config import load_config
from osorganicai.labels import RUNTIME_MARKER
from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.webhook import create_app

from .developer_support import BUGGY_LINE, FIXED_LINE, shop_files
from .fake_github_git import FakeGitHubGit
from .fake_models import OPENAI_KEY, Exchange, Say, ScriptedModel
from .lifecycle_support import deployment_fixture, fixture  # noqa: F401 - the fixture is used by name
from .support import SECRET, ScriptedLLM, signed_headers
from .test_developer_workflow import CHECKS, job_environment, run_command

BOT = "osorganic-bot[bot]"
ISSUE = 7
QUESTIONS = {
    "needs_clarification": True,
    "questions": ["Off the price or the total?"],
    "refined_description": "",
    "is_complete": False,
}
READY = {
    "needs_clarification": False,
    "questions": [],
    "refined_description": "apply_discount takes the percentage off the price.\n\n- [ ] 10% off 100 is 90",
    "is_complete": True,
}


class Story:
    """The repository, its webhook and its workflows, one step at a time."""

    def __init__(self, github: FakeGitHubGit, database: str, store: Any, root: Path) -> None:
        self.github = github
        self.database = database
        self.store = store
        self.root = root
        self.settings = Settings.from_env(
            {
                "GITHUB_WEBHOOK_SECRET": SECRET,
                "OSORGANIC_BOT_LOGIN": BOT,
                "GITHUB_REPOSITORY": github.repository,
                "GITHUB_TOKEN": github.token,
                "GITHUB_API_URL": github.url,
                "DATABASE_URL": database,
                "LLM_PROVIDER": "openai",
            }
        )
        self.webhook = TestClient(create_app(Service(settings=self.settings, store=store, github=github.client())))
        self.deliveries = 0

    # -- GitHub sends a webhook ---------------------------------------------------------------
    def deliver(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.deliveries += 1
        body = json.dumps(payload).encode()
        response = self.webhook.post(
            "/api/webhooks", content=body, headers=signed_headers(body, event, f"story-{self.deliveries}")
        )
        assert response.status_code in (200, 202), response.text
        return response.json()

    def queued(self, event: str, payload: dict[str, Any], kind: str) -> uuid.UUID:
        answer = self.deliver(event, payload)
        assert answer["status"] == "queued" and answer["kind"] == kind, answer
        return uuid.UUID(answer["job"])

    def payload(self, name: str, **changes: Any) -> dict[str, Any]:
        payload = copy.deepcopy(fixture(name))
        payload["repository"]["full_name"] = self.github.repository
        for key, value in changes.items():
            payload[key] = value
        return payload

    # -- the workflows ----------------------------------------------------------------------------
    def product_owner(self, job_id: uuid.UUID, reply: dict[str, Any]) -> str:
        assert self.store.start_job(job_id) is not None
        agent = ProductOwnerAgent(
            repository=self.github.repository,
            settings=self.settings,
            config=load_config(self.root / "no-config"),
            store=self.store,
            github=self.github.client(),
            llm=ScriptedLLM(reply),
            job_id=job_id,
        )
        outcome = agent.run(ISSUE).outcome
        self.store.finish_job(job_id, succeeded=True)
        return outcome

    def command(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        environment = job_environment(self.github, GITHUB_TOKEN=self.github.token, DATABASE_URL=self.database, **extra)
        completed = run_command(*args, env=environment, cwd=self.root)
        assert completed.returncode == 0, completed.stderr
        return completed

    def lifecycle(self, job_id: uuid.UUID) -> str:
        return self.command("lifecycle", "--job-id", str(job_id)).stderr

    def developer_workflow(self, job_id: uuid.UUID, steps: list[Any], name: str) -> dict[str, str]:
        """claim -> developer (read-only token, scripted model) -> publish (-> reply after a revise)."""
        claimed = self.command("claim", "--issue", str(ISSUE), "--job-id", str(job_id)).stdout
        outputs = dict(line.split("=", 1) for line in claimed.splitlines())
        assert outputs["proceed"] == "true"
        checkout = self.github.clone(self.root / name, branch=outputs["branch"] or None)
        out = self.root / f"{name}-proposal"
        with ScriptedModel("openai", steps, model="gpt-4o-mini") as model:
            environment = job_environment(
                self.github,
                GITHUB_TOKEN=self.github.token,
                LLM_PROVIDER="openai",
                OPENAI_API_KEY=OPENAI_KEY,
                OPENAI_BASE_URL=model.base_url,
            )
            developed = run_command(
                "developer", "--issue", str(ISSUE), "--job-id", str(job_id), "--mode", outputs["mode"],
                "--out", str(out), "--checkout", str(checkout), env=environment, cwd=checkout,
            )  # fmt: skip
        assert developed.returncode == 0, developed.stderr
        self.command("publish", "--from", str(out))
        if outputs["mode"] == "revise":
            self.command("reply", "--from", str(out))
        return outputs

    def dispatched(self) -> list[tuple[str, str]]:
        return [(d["event_type"], d["client_payload"]["job_id"]) for d in self.github.dispatches]

    def actions(self) -> list[tuple[str, str]]:
        with psycopg.connect(self.database) as connection:
            return connection.execute("select agent, action_type from public.agent_actions order by id").fetchall()

    # -- what GitHub would send about the pull request ----------------------------------------
    def pull(self) -> dict[str, Any]:
        [pull] = self.github.pulls
        return self.github.client().get_pull(self.github.repository, pull["number"])

    def check_suite(self, conclusion: str) -> dict[str, Any]:
        pull = self.pull()
        payload = self.payload("check_suite.completed.payload.json")
        head = {"ref": pull["head"]["ref"], "sha": pull["head"]["sha"]}
        payload["check_suite"].update(head_branch=head["ref"], head_sha=head["sha"], conclusion=conclusion)
        payload["check_suite"]["pull_requests"][0].update(number=pull["number"], head=head)
        return payload

    def pull_event(self, name: str, **changes: Any) -> dict[str, Any]:
        pull = self.pull()
        payload = self.payload(name)
        payload["pull_request"].update(number=pull["number"], head={"ref": pull["head"]["ref"], "sha": pull["head"]["sha"]})
        for key, value in changes.items():
            payload[key].update(value)
        return payload


def a_shop(github: FakeGitHubGit) -> None:
    github.create_repository(shop_files(CHECKS))
    github.add_issue(ISSUE, "Discounts raise the price", "apply_discount adds the percentage.", author="alice")
    github.permissions.update({"alice": "write", BOT: "write"})


def test_an_issue_goes_from_opened_to_merged_done_and_deployed(tmp_path: Path, database: str, store, deployment) -> None:
    with FakeGitHubGit(tmp_path / "github", bot_login=BOT) as github:
        a_shop(github)
        story = Story(github, database, store, tmp_path)
        alice = {"login": "alice", "type": "User"}
        issue = dict(github.issues[ISSUE], author_association="NONE")

        # 1. Opened; the Product Owner asks; alice answers; ready-for-dev.
        job = story.queued("issues", story.payload("issues.opened.payload.json", issue=issue, sender=alice), "product_owner")
        assert story.product_owner(job, QUESTIONS) == "asked"
        answer = github.add_comment(ISSUE, "Off the price.", login="alice")
        comment_event = story.payload("issue_comment.created.payload.json", issue=issue, sender=alice)
        comment_event["comment"].update(answer, author_association="NONE")
        job = story.queued("issue_comment", comment_event, "product_owner")
        assert story.product_owner(job, READY) == "ready"
        labeled = story.payload(
            "issues.labeled.payload.json",
            issue=dict(github.issues[ISSUE]),
            label={"name": "ready-for-dev"},
            sender={"login": BOT, "type": "Bot"},
        )

        # 2. The Developer's proposal, published as a draft pull request.
        job = story.queued("issues", labeled, "developer")
        fix_the_bug = [
            Say([("str_replace", {"path": "shop/pricing.py", "old_str": BUGGY_LINE, "new_str": FIXED_LINE})]),
            Say([("finish", {"summary": "Take the discount off.", "title": "Take discounts off the price"})]),
        ]
        assert story.developer_workflow(job, fix_the_bug, "develop")["mode"] == "developer"
        pull = story.pull()
        assert pull["draft"] is True and f"Fixes #{ISSUE}" in pull["body"]

        # 3. Red checks: a fix run told the failing test; then green: ready for review.
        github.add_check_run(
            pull["head"]["sha"],
            "pytest",
            "failure",
            title="1 failed",
            annotations=(
                {
                    "path": "tests/test_discount.py",
                    "start_line": 1,
                    "annotation_level": "failure",
                    "message": "test_discount.py is missing",
                },
            ),
            log="E   ModuleNotFoundError: tests/test_discount.py\nFAILED (errors=1)\n",
        )
        job = story.queued("check_suite", story.check_suite("failure"), "lifecycle")
        assert "fix_started" in story.lifecycle(job)
        fix_event_type, fix_job = story.dispatched()[-1]
        assert fix_event_type == "agent-developer"

        def add_the_test(exchange: Exchange) -> Say:
            prompt = json.dumps(exchange.request["messages"])
            assert "Check `pytest`: failure" in prompt and "test_discount.py is missing" in prompt
            assert "FAILED (errors=1)" in prompt
            test = (
                "from shop.pricing import apply_discount\n\n\n"
                "def test_ten_off() -> None:\n    assert apply_discount(100.0, 10.0) == 90.0\n"
            )
            return Say([("create_file", {"path": "tests/test_discount.py", "content": test})])

        fixing = [add_the_test, Say([("finish", {"summary": "Add the discount test the check asked for."})])]
        assert story.developer_workflow(uuid.UUID(fix_job), fixing, "fix")["mode"] == "fix"
        fixed = story.pull()
        assert fixed["body"] == pull["body"]  # the description stays; the fix run comments what it changed
        assert "(fix run): Add the discount test" in github.comments(fixed["number"])[-1]["body"]
        assert fixed["head"]["sha"] != pull["head"]["sha"] and github.bare.is_ancestor(pull["head"]["sha"], fixed["head"]["sha"])

        github.add_check_run(fixed["head"]["sha"], "pytest", "success")
        job = story.queued("check_suite", story.check_suite("success"), "lifecycle")
        assert "ready_for_review" in story.lifecycle(job)
        assert story.pull()["draft"] is False and github.requested_reviewers[fixed["number"]] == ["alice"]

        # 4. A change request: a revise run, a reply in the thread, the review requested again.
        thread = github.add_review_comment(fixed["number"], "alice", "tests/test_discount.py", 5, "Also test 0%.")
        github.add_review(fixed["number"], "alice", "CHANGES_REQUESTED", "One more case.")
        review = story.pull_event(
            "pull_request_review.submitted.payload.json",
            review={"state": "changes_requested", "body": "One more case.", "user": alice},
            sender=alice,
        )
        job = story.queued("pull_request_review", review, "lifecycle")
        assert "revise_started" in story.lifecycle(job)
        _, revise_job = story.dispatched()[-1]

        def add_zero_percent(exchange: Exchange) -> Say:
            assert "Also test 0%." in json.dumps(exchange.request["messages"])
            more = "\n\ndef test_zero_off() -> None:\n    assert apply_discount(100.0, 0.0) == 100.0\n"
            return Say([("bash", {"command": f"printf '%s' '{more}' >> tests/test_discount.py"})])

        revising = [add_zero_percent, Say([("finish", {"summary": "Added a 0% test."})])]
        assert story.developer_workflow(uuid.UUID(revise_job), revising, "revise")["mode"] == "revise"
        [reply] = [c for c in github.review_comments(fixed["number"]) if c.get("in_reply_to_id") == thread["id"]]
        assert RUNTIME_MARKER in reply["body"] and "Added a 0% test." in reply["body"]
        revised_head = story.pull()["head"]["sha"]
        assert "test_zero_off" in github.branch_files(story.pull()["head"]["ref"])["tests/test_discount.py"][1].decode()
        assert github.bare.is_ancestor(fixed["head"]["sha"], revised_head)

        # 5. Merged: the issue is closed, the labels go, the conversation is done.
        github.close_pull(fixed["number"], merged=True)
        closed = story.pull_event("pull_request.closed.payload.json", pull_request={"merged": True})
        job = story.queued("pull_request", closed, "lifecycle")
        assert "done" in story.lifecycle(job)
        assert github.issues[ISSUE]["state"] == "closed" and github.issues[ISSUE]["labels"] == []

        # 6. The default branch is deployed from the merge commit: its health is commented on the issue.
        deployed = story.payload("deployment_status.payload.json")
        deployed["deployment"].update(ref="main", sha=story.pull()["merge_commit_sha"])
        deployed["deployment_status"].update(state="success", environment_url=deployment)
        job = story.queued("deployment_status", deployed, "lifecycle")
        assert "deployed" in story.lifecycle(job)
        assert deployment in github.comments(ISSUE)[-1]["body"] and "`GET /api/health`: 200" in github.comments(ISSUE)[-1]["body"]

    with psycopg.connect(database) as connection:
        [(state,)] = connection.execute("select state from public.pull_request_states").fetchall()
        kinds = connection.execute("select kind, status from public.jobs order by created_at").fetchall()
    assert state == "deployed"
    assert kinds == [
        ("product_owner", "succeeded"),
        ("product_owner", "succeeded"),
        ("developer", "succeeded"),
        ("lifecycle", "succeeded"),
        ("fix", "succeeded"),
        ("lifecycle", "succeeded"),
        ("lifecycle", "succeeded"),
        ("revise", "succeeded"),
        ("lifecycle", "succeeded"),
        ("lifecycle", "succeeded"),
    ]
    steps = [action for action in story.actions() if action[1] != "analysed_issue"]
    for expected in [
        ("product_owner", "asked_questions"),
        ("product_owner", "marked_ready"),
        ("developer", "publish_published"),
        ("lifecycle", "fix_started"),
        ("developer", "publish_published"),
        ("lifecycle", "ready_for_review"),
        ("lifecycle", "revise_started"),
        ("developer", "publish_published"),
        ("developer", "review_answered"),
        ("lifecycle", "done"),
        ("lifecycle", "deployed"),
    ]:
        assert expected in steps, expected
        steps = steps[steps.index(expected) + 1 :]
