"""ProductOwnerAgent: turns an issue into either clarifying questions or a ready-for-dev spec.

It keeps the dialogue in `conversations`, so when a person answers in a comment, the next run
analyses the answer together with the history. Questions go out as one comment with the
`needs-clarification` label; a complete issue gets a refined description and `ready-for-dev`,
which starts the Developer agent. While the agents are paused (`interventions.py`) an analysis is not
acted on: the run ends `paused` and the job runs again when they resume. Its own comments carry the
runtime's hidden marker; comments from people who do not steer the issue (see `steering.py`: the issue's
author without write access steers once a writer has engaged with it) reach the model fenced and marked as
information only. With a checkout of the repository at hand it searches the
code (the Developer's read-only content search) so its questions are about this code base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import AgentConfig
from ..developer.retrieval import RepositoryIndex
from ..labels import with_marker
from ..llm import BudgetExceededError, LLMError, StructuredOutputError
from ..sanitize import clean_untrusted, fence
from ..steering import NOT_STEERING_NOTE, Steering
from .base import LABEL_NEEDS_CLARIFICATION, LABEL_READY_FOR_DEV, BaseAgent
from .schemas import ProductOwnerAnalysis


@dataclass(frozen=True)
class ProductOwnerResult:
    outcome: str  # "asked", "ready", "skipped", "paused" or "failed"
    detail: str = ""


MAX_CODE_HITS = 6
MAX_CODE_CONTEXT_CHARS = 6_000


class ProductOwnerAgent(BaseAgent):
    name = "product_owner"
    # The repository's code, searched read-only for what the issue names (None: no checkout at hand).
    code_index: RepositoryIndex | None = None
    steering: Steering | None = None

    def agent_config(self) -> AgentConfig:
        return self.config.product_owner

    def run(self, issue_number: int) -> ProductOwnerResult:
        issue = self.github.get_issue(self.repository, issue_number)
        labels = {label.get("name") for label in issue.get("labels", []) if isinstance(label, dict)}
        if "pull_request" in issue:
            return self._skip(issue_number, "a pull request, not an issue")
        if issue.get("state") != "open":
            return self._skip(issue_number, "the issue is closed")
        if LABEL_READY_FOR_DEV in labels:
            return self._skip(issue_number, "the issue is already ready-for-dev")

        self.steering = Steering(
            self.github,
            self.repository,
            issue_author=(issue.get("user") or {}).get("login"),
            bot_login=self.settings.bot_login,
            writer_engaged=self.store.writer_engaged(self.repository, issue_number),
        )
        self._sync_comments(issue_number)
        history = self.store.conversation(self.repository, issue_number)
        user_replies = [clean_untrusted(message.content) for message in history if message.role == "user"]
        try:
            analysis, response = self.ask(
                ProductOwnerAnalysis,
                "product_owner_analysis",
                self._user_message(issue, history),
                {
                    "issue_number": issue_number,
                    "issue_title": clean_untrusted(issue.get("title")),
                    "issue_body": clean_untrusted(issue.get("body")),
                    "user_replies": user_replies,
                },
            )
        except (StructuredOutputError, LLMError, BudgetExceededError) as error:
            return self._report_failure(issue_number, error)

        self.log_action(
            "analysed_issue",
            {
                "needs_clarification": analysis.needs_clarification,
                "questions": len(analysis.questions),
                "model": response.model,
                "input_tokens": self.budget.input_tokens,
                "output_tokens": self.budget.output_tokens,
                "cost_usd": round(self.budget.cost_usd, 6),
            },
            issue_number,
        )
        paused = self._paused(issue_number)
        if paused is not None:
            return paused
        if analysis.needs_clarification:
            return self._ask_questions(issue_number, analysis, labels)
        return self._mark_ready(issue_number, analysis, labels)

    # -- steps -----------------------------------------------------------------------------
    def _skip(self, issue_number: int, reason: str) -> ProductOwnerResult:
        self.log_action("skipped", {"reason": reason}, issue_number)
        return ProductOwnerResult("skipped", reason)

    def _paused(self, issue_number: int) -> ProductOwnerResult | None:
        """The run's end when the agents were paused while the model worked: nothing is posted."""
        if self.store is None or self.job_id is None:
            return None
        switch = self.store.agent_switch()
        if not switch.paused:
            return None
        reason = f"the agents were paused by {switch.changed_by or 'someone'}: the analysis was not posted"
        self.log_action("paused", {"reason": reason}, issue_number)
        return ProductOwnerResult("paused", reason)

    def _sync_comments(self, issue_number: int) -> None:
        """Mirror the issue's comments into `conversations` (each comment once)."""
        for comment in self.github.list_comments(self.repository, issue_number):
            user = comment.get("user") or {}
            login = user.get("login")
            body = comment.get("body") or ""
            steering = self.steering or Steering(
                self.github, self.repository, issue_author=None, bot_login=self.settings.bot_login
            )
            is_runtime = steering.is_own_comment(login, body)
            if steering.is_forged(login, body):
                continue  # the runtime's marker in someone else's comment
            if user.get("type") == "Bot" and not is_runtime:
                continue  # other bots' chatter is not part of the dialogue
            self.store.add_message(
                repository=self.repository,
                issue_number=issue_number,
                role="assistant" if is_runtime else "user",
                content=body,
                author_login=login,
                github_comment_id=comment.get("id"),
            )

    def _user_message(self, issue: dict[str, Any], history: list[Any]) -> str:
        parts = [
            f"# Issue #{issue.get('number')}",
            fence("issue-title", issue.get("title")),
            fence("issue-body", issue.get("body")),
        ]
        if history:
            parts.append("# Conversation so far (oldest first)")
            for message in history:
                if message.role == "assistant":
                    parts.append("Product Owner (you) wrote:\n" + clean_untrusted(message.content))
                elif self.steering is None or self.steering.may_steer(message.author_login):
                    parts.append(f"User comment:\n{fence('comment', message.content)}")
                else:
                    who = clean_untrusted(message.author_login or "someone", 100)
                    parts.append(f"Comment by @{who}, {NOT_STEERING_NOTE}:\n{fence('non-steering-comment', message.content)}")
        code = self._relevant_code(issue, history)
        if code:
            parts += ["# Code of this repository that the issue may be about (read-only search)", code]
        parts.append(
            "# Task\nDecide whether a developer could implement this issue without guessing. If not, "
            "set needs_clarification and ask at most five short questions that the answers so far do not "
            "settle. If so, set is_complete and write refined_description: goal, scope, acceptance "
            "criteria as a checklist, and the domain constraints that apply."
        )
        return "\n\n".join(parts)

    def _relevant_code(self, issue: dict[str, Any], history: list[Any]) -> str:
        """The best search hits for the issue's words, with their lines, so questions fit this code base."""
        if self.code_index is None:
            return ""
        query = "\n".join([str(issue.get("title") or ""), str(issue.get("body") or "")] + [m.content for m in history])
        blocks: list[str] = []
        for hit in self.code_index.search(clean_untrusted(query, 5_000), limit=MAX_CODE_HITS):
            lines = "\n".join(f"{number:>5}  {text}" for number, text in hit.lines)
            blocks.append(f"`{hit.path}`:\n{lines}")
        return "\n\n".join(blocks)[:MAX_CODE_CONTEXT_CHARS]

    def _ask_questions(self, issue_number: int, analysis: ProductOwnerAnalysis, labels: set[Any]) -> ProductOwnerResult:
        body = (
            "Thanks for the issue. Before it can be implemented, a few questions:\n\n"
            + "\n".join(f"{index}. {question}" for index, question in enumerate(analysis.questions, 1))
            + "\n\nPlease answer in a comment; I will read the answers with this discussion."
            + self.provider_footer()
        )
        body = with_marker(body)
        comment = self.github.create_comment(self.repository, issue_number, body)
        self._remember(issue_number, body, comment)
        if LABEL_NEEDS_CLARIFICATION not in labels:
            self.github.add_labels(self.repository, issue_number, [LABEL_NEEDS_CLARIFICATION])
        self.log_action("asked_questions", {"questions": analysis.questions, "comment_id": comment.get("id")}, issue_number)
        return ProductOwnerResult("asked", f"{len(analysis.questions)} questions")

    def _mark_ready(self, issue_number: int, analysis: ProductOwnerAnalysis, labels: set[Any]) -> ProductOwnerResult:
        body = (
            "This issue is ready for development. Refined description:\n\n"
            + analysis.refined_description.strip()
            + self.provider_footer()
        )
        body = with_marker(body)
        comment = self.github.create_comment(self.repository, issue_number, body)
        self._remember(issue_number, body, comment)
        if LABEL_NEEDS_CLARIFICATION in labels:
            self.github.remove_label(self.repository, issue_number, LABEL_NEEDS_CLARIFICATION)
        self.github.add_labels(self.repository, issue_number, [LABEL_READY_FOR_DEV])
        self.log_action("marked_ready", {"comment_id": comment.get("id")}, issue_number)
        return ProductOwnerResult("ready")

    def _remember(self, issue_number: int, body: str, comment: dict[str, Any]) -> None:
        self.store.add_message(
            repository=self.repository,
            issue_number=issue_number,
            role="assistant",
            content=body,
            author_login=self.settings.bot_login,
            github_comment_id=comment.get("id"),
        )

    def _report_failure(self, issue_number: int, error: Exception) -> ProductOwnerResult:
        reason = str(error)
        self.log_action("analysis_failed", {"error": reason[:1000], "kind": error.__class__.__name__}, issue_number)
        self.github.create_comment(
            self.repository,
            issue_number,
            "The Product Owner agent could not analyse this issue "
            f"({error.__class__.__name__}: {reason[:300]}). A maintainer can re-run the agent workflow." + self.provider_footer(),
        )
        return ProductOwnerResult("failed", reason)
