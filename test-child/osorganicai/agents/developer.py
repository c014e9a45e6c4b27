"""DeveloperAgent: works a ready-for-dev issue in a git checkout and writes a proposal.

It runs in a job that holds no GitHub write token. The model works through tools in the
checkout (`developer/loop.py`); when it calls `finish` the runtime runs the child's checks; the
run ends with a folder holding `change.patch`, `proposal.json` and `transcript.jsonl`, which a
separate job validates and publishes (`osorganicai/publishing/`). A child specialises the agent
in `src/agents/developer.py` through `get_domain_context()` and `customize_prompt()`.

Three modes, one loop: `developer` implements the issue; `fix` works on the issue's open pull request
after its checks failed, told the failing checks, their annotations and the end of the failed job
logs; `revise` works on it after a person's review, told the review comments with their file and
line. Fix and revise runs start from the pull request's branch, so their commits go on top of it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import AgentConfig
from ..developer.budget import RunBudget
from ..developer.checks import CheckRunner
from ..developer.controls import ControlPoll
from ..developer.loop import DeveloperLoop, Interrupted, LoopOutcome, StopSignals
from ..developer.record import Change, RecordError, Transcript, current_branch, describe_change, head_commit
from ..developer.retrieval import RepositoryIndex
from ..developer.tools import ToolBox
from ..developer.workspace import Workspace, scrubbed_environment, secret_values
from ..lifecycle.context import fix_context, review_context
from ..proposal import PATCH_FILE, TRANSCRIPT_FILE, Proposal, Usage, write_proposal
from ..sanitize import clean_untrusted, fence, slugify
from ..steering import NOT_STEERING_NOTE, Steering
from .base import LABEL_READY_FOR_DEV, UNTRUSTED_DATA_RULES_WITH_TOOLS, BaseAgent

READY_MARKER = "ready for development"
CONVENTION_FILES = ("AGENTS.md", "CONVENTIONS.md", "CONTRIBUTING.md")
MAX_CONVENTIONS_CHARS = 6_000
MAX_CONVERSATION_CHARS = 30_000
MODES = ("developer", "fix", "revise")
MODE_TASKS = {
    "fix": "The pull request's checks failed (above). Find the cause in this checkout and fix it with the "
    "smallest change; do not weaken or skip tests. Run the failing check yourself, then call `finish` with "
    "a summary of the fix.",
    "revise": "A reviewer asked for changes (above). Address each comment in this checkout, run the tests, "
    "then call `finish` with a summary that says, comment by comment, what you changed; it is posted in each "
    "review thread.",
}

# Exit codes of `python -m osorganicai developer` (documented in the child README).
EXIT_READY = 0
EXIT_FAILED = 1
EXIT_BUDGET_EXHAUSTED = 3
EXIT_CHECKS_FAILING = 4
EXIT_CODES = {
    "ready": EXIT_READY,
    "no_changes": EXIT_READY,
    "failed": EXIT_FAILED,
    "budget_exhausted": EXIT_BUDGET_EXHAUSTED,
    "checks_failing": EXIT_CHECKS_FAILING,
}


@dataclass(frozen=True)
class DeveloperResult:
    outcome: str  # a proposal status, or "skipped" when there was nothing to do (no proposal written)
    detail: str = ""
    proposal: Proposal | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.outcome, EXIT_READY)


def issue_branch(issue_number: int, title: str) -> str:
    return f"feature/issue-{issue_number}-{slugify(title or 'change')}"


class DeveloperAgent(BaseAgent):
    name = "developer"
    untrusted_data_rules = UNTRUSTED_DATA_RULES_WITH_TOOLS

    def agent_config(self) -> AgentConfig:
        return self.config.developer

    mode = "developer"
    followup = ""  # the failing checks (fix) or the review (revise), shown to the model as untrusted text
    controls: ControlPoll | None = None  # the pause switch and the job's budget factor, when the job has them

    def run(
        self,
        issue_number: int,
        *,
        checkout: Path,
        out: Path,
        environment: Mapping[str, str] | None = None,
        mode: str = "developer",
    ) -> DeveloperResult:
        """Work the issue in `checkout` and write the proposal folder `out`."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        self.mode = mode
        source_environment = dict(os.environ if environment is None else environment)
        issue = self.github.get_issue(self.repository, issue_number)
        refusal = self.refusal(issue)
        if refusal is not None:
            return DeveloperResult("skipped", refusal)
        command_environment = scrubbed_environment(source_environment)
        base_commit = head_commit(checkout, command_environment)
        base_branch = current_branch(checkout, command_environment)
        if mode != "developer":
            refusal = self.load_followup(issue_number, base_branch, base_commit)
            if refusal is not None:
                return DeveloperResult("skipped", refusal)
        default_branch = str(self.github.get_repository(self.repository).get("default_branch") or "main")
        branch = self.branch_for(issue, base_branch)

        transcript = Transcript(out / TRANSCRIPT_FILE, self.secrets(source_environment))
        loop: DeveloperLoop | None = None
        try:
            with StopSignals() as signals:
                try:
                    loop = self.build_loop(issue, checkout, source_environment, command_environment, base_commit, transcript)
                    outcome = loop.run()
                except Interrupted as interrupted:  # a signal outside a step of the loop
                    outcome = LoopOutcome(
                        "budget_exhausted", budget_exhausted="interrupted", remaining=f"Stopped by {interrupted.signal_name}."
                    )
                except Exception as error:  # noqa: BLE001 - the run fails, but says why and keeps its work
                    transcript.write("error", error=f"{error.__class__.__name__}: {error}")
                    outcome = LoopOutcome("failed", error=f"the run stopped on an error: {error.__class__.__name__}: {error}")
                signals.disarm()
                change = self.change_or_nothing(checkout, base_commit, command_environment, transcript)
                if loop is not None:
                    transcript.write("timings", **loop.timings.as_dict())
                proposal = self.write_proposal(
                    out,
                    issue=issue,
                    outcome=outcome,
                    change=change,
                    loop=loop,
                    base_commit=base_commit,
                    base_branch=base_branch,
                    default_branch=default_branch,
                    branch=branch,
                )
        finally:
            transcript.close()
        return DeveloperResult(proposal.status, proposal.error or proposal.remaining, proposal)

    # -- steps -----------------------------------------------------------------------------------
    def refusal(self, issue: dict[str, Any]) -> str | None:
        """Why this issue is not for the Developer now; None when it is."""
        labels = {label.get("name") for label in issue.get("labels", []) if isinstance(label, dict)}
        if issue.get("state") != "open" or "pull_request" in issue:
            return "not an open issue"
        if LABEL_READY_FOR_DEV not in labels:
            return f"the issue is not labelled {LABEL_READY_FOR_DEV}"
        return None

    def load_followup(self, issue_number: int, branch: str | None, head: str) -> str | None:
        """For a fix or revise run: what to work on, from the issue's open pull request; why not, else."""
        if not branch or not branch.startswith(f"feature/issue-{issue_number}-"):
            return f"a {self.mode} run starts from the issue's branch, not `{branch or 'a detached head'}`"
        pull = self.github.find_open_pull(self.repository, branch)
        if pull is None:
            return f"no open pull request for `{branch}`"
        if self.mode == "fix":
            self.followup = fix_context(self.github, self.repository, head)
        else:
            self.followup = review_context(self.github, self.repository, pull.number)
        if not self.followup.strip():
            return f"nothing to {self.mode} on pull request #{pull.number}"
        return None

    def branch_for(self, issue: dict[str, Any], checked_out: str | None) -> str:
        """The issue's branch: the one checked out when a run goes on from earlier work, else a new name."""
        number = int(issue["number"])
        if checked_out and checked_out.startswith(f"feature/issue-{number}-"):
            return checked_out
        return issue_branch(number, str(issue.get("title") or ""))

    def change_or_nothing(
        self, checkout: Path, base_commit: str, environment: Mapping[str, str], transcript: Transcript
    ) -> Change:
        """The checkout's change; when git cannot describe it, an empty one (the proposal then says why)."""
        try:
            return describe_change(checkout, base_commit, environment)
        except RecordError as error:
            transcript.write("error", error=str(error))
            return Change(patch=b"", files=())

    def secrets(self, environment: Mapping[str, str]) -> list[str]:
        return [*secret_values(environment), *secret_values(self.settings.values)]

    def build_loop(
        self,
        issue: dict[str, Any],
        checkout: Path,
        source_environment: Mapping[str, str],
        command_environment: Mapping[str, str],
        base_commit: str,
        transcript: Transcript,
    ) -> DeveloperLoop:
        budgets = self.config.developer_budgets
        workspace = Workspace(
            checkout,
            command_timeout_seconds=budgets.command_timeout_s,
            max_output_chars=budgets.max_output_chars,
            environment=source_environment,
        )
        index = RepositoryIndex.build(checkout)

        def changed_paths() -> list[str]:
            return describe_change(checkout, base_commit, command_environment).paths

        number = int(issue["number"])
        agent = self.agent_config()
        return DeveloperLoop(
            llm=self.llm,
            model=self.model_name(),
            system_prompt=self.system_prompt(),
            task_prompt=self.task_prompt(issue, self.specification(issue), index, checkout),
            toolbox=ToolBox(workspace, index, max_output_chars=budgets.max_output_chars),
            checks=CheckRunner(workspace, self.config.checks, changed_paths),
            budget=RunBudget(budgets, self.llm.name, self.config.prices),
            limits=budgets,
            transcript=transcript,
            has_changes=lambda: bool(changed_paths()),
            max_answer_tokens=agent.max_tokens,
            temperature=agent.temperature,
            controls=self.controls,
            metadata={
                "issue_number": number,
                "issue_title": clean_untrusted(issue.get("title")),
                "slug": slugify(str(issue.get("title") or "change")),
            },
        )

    def specification(self, issue: dict[str, Any]) -> str:
        """The issue as refined with the Product Owner: the conversation on the issue, the last
        refined description first. Comments are untrusted text and are fenced by the caller."""
        comments = self.github.list_comments(self.repository, int(issue["number"]))
        # The Developer runs only on a `ready-for-dev` label added by a writer or by the runtime for
        # someone who steers: a writer has engaged with the issue, so its author steers (`steering.py`).
        steering = Steering(
            self.github,
            self.repository,
            issue_author=(issue.get("user") or {}).get("login"),
            bot_login=self.settings.bot_login,
            writer_engaged=True,
        )
        refined = ""
        conversation: list[str] = []
        for comment in comments:
            author = (comment.get("user") or {}).get("login") or "someone"
            body = str(comment.get("body") or "")
            if steering.is_forged(author, body):
                continue
            own = steering.is_own_comment(author, body) or self.is_bot(author)
            if own and READY_MARKER in body.lower():
                refined = body
            if own or steering.may_steer(author):
                conversation.append(f"@{author}: {body}")
            else:
                conversation.append(f"@{author} ({NOT_STEERING_NOTE}): {body}")
        text = "\n\n".join(conversation)[-MAX_CONVERSATION_CHARS:]
        if refined:
            return f"Refined description (the Product Owner's):\n{refined}\n\nThe conversation:\n{text}"
        return text

    def task_prompt(self, issue: dict[str, Any], specification: str, index: RepositoryIndex, checkout: Path) -> str:
        title, body = str(issue.get("title") or ""), str(issue.get("body") or "")
        parts = [
            f"# Issue #{issue.get('number')}",
            fence("issue-title", title),
            fence("issue-body", body),
        ]
        if specification.strip():
            parts += ["# The refined issue and its conversation", fence("conversation", specification)]
        conventions = self.conventions(checkout)
        if conventions:
            parts += ["# The project's conventions", conventions]
        if self.mode == "fix" and self.followup:
            parts += ["# The pull request's failing checks", fence("failing-checks", self.followup)]
        if self.mode == "revise" and self.followup:
            parts += ["# The review to address", fence("review", self.followup)]
        task = MODE_TASKS.get(self.mode) or (
            "Implement the issue in this checkout as a small, reviewable change with tests. Explore first, edit "
            "with `str_replace` or `create_file`, run the tests yourself, then call `finish` with a summary for the "
            "pull request (what changed and why, how it was tested)."
        )
        parts += [
            "# A map of the repository (ranked by what the files contain)",
            index.repository_map(f"{title}\n{body}\n{specification}\n{self.followup}"),
            "# Your task",
            task
            + " The runtime runs the project's checks after `finish`: "
            + ", ".join(check.name for check in self.config.checks)
            + ".",
        ]
        return "\n\n".join(parts)

    def conventions(self, checkout: Path) -> str:
        texts = []
        for name in CONVENTION_FILES:
            path = checkout / name
            if path.is_file() and not path.is_symlink():
                try:
                    texts.append(f"From `{name}`:\n{path.read_text(encoding='utf-8')[:MAX_CONVENTIONS_CHARS]}")
                except (OSError, UnicodeDecodeError):
                    continue
        pyproject = checkout / "pyproject.toml"
        if pyproject.is_file() and not pyproject.is_symlink():
            ruff = re.search(r"(?ms)^\[tool\.ruff[^\n]*\].*?(?=^\[(?!tool\.ruff)|\Z)", pyproject.read_text("utf-8", "replace"))
            if ruff:
                texts.append("Lint and format settings (pyproject.toml):\n" + ruff.group(0).strip()[:2_000])
        return "\n\n".join(texts)[: MAX_CONVENTIONS_CHARS * 2]

    def write_proposal(
        self,
        out: Path,
        *,
        issue: dict[str, Any],
        outcome: LoopOutcome,
        change: Change,
        loop: DeveloperLoop | None,
        base_commit: str,
        base_branch: str | None,
        default_branch: str,
        branch: str,
    ) -> Proposal:
        status = outcome.status
        if status == "ready" and not change.patch:
            status = "no_changes"
        (out / PATCH_FILE).write_bytes(change.patch)
        title = (outcome.finish.title if outcome.finish and outcome.finish.title else "") or clean_untrusted(
            issue.get("title"), 200
        )
        summary = outcome.finish.summary if outcome.finish else ""
        budget = loop.budget if loop is not None else RunBudget(self.config.developer_budgets, self.llm.name)
        checks = loop.checks if loop is not None else None
        proposal = Proposal(
            repository=self.repository,
            issue=int(issue["number"]),
            job_id=str(self.job_id) if self.job_id else None,
            base_commit=base_commit,
            base_branch=base_branch,
            default_branch=default_branch,
            branch=branch,
            title=" ".join(title.split())[:300] or f"Issue #{issue['number']}",
            summary=summary[:20_000],
            status=status,
            budget_exhausted=outcome.budget_exhausted,
            remaining=outcome.remaining[:5_000],
            error=(outcome.error or None) and outcome.error[:2_000],
            checks=list(checks.outcomes) if checks else [],
            check_rounds=checks.rounds if checks else 0,
            usage=Usage(
                provider=self.llm.name,
                model=self.model_name(),
                steps=budget.steps,
                input_tokens=budget.input_tokens,
                output_tokens=budget.output_tokens,
                cost_usd=round(budget.cost_usd, 6),
                minutes=round(budget.minutes, 3),
            ),
            files=list(change.files),
            patch_bytes=len(change.patch),
            patch_sha256=hashlib.sha256(change.patch).hexdigest(),
        )
        write_proposal(out, proposal)
        return proposal
