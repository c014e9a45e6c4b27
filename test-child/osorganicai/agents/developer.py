"""DeveloperAgent: implements a ready-for-dev issue as a draft pull request.

It ranks the repository's files against the issue, shows the best ones to the model, and asks
for source files plus tests. Every proposed path must stay inside the repository and out of
protected places (`.git`, `.github`, the runtime package, secrets), and every Python file must
compile; otherwise the change is rejected and reported. An accepted change is committed on
`feature/issue-N-slug` through the GitHub API and opened as a draft pull request for a person
to review and merge.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..config import AgentConfig
from ..llm import BudgetExceededError, LLMError, StructuredOutputError
from ..sanitize import clean_untrusted, fence, slugify
from .base import LABEL_READY_FOR_DEV, BaseAgent
from .schemas import DeveloperChange

TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".toml", ".txt", ".json", ".yml", ".yaml", ".sql", ".cfg", ".ini", ".html", ".css", ".js", ".ts"}
)
PROTECTED_PREFIXES = (".git/", ".github/", "osorganicai/", "supabase/migrations/")
PROTECTED_FILES = frozenset({".osorganic.toml", ".env", "requirements.txt", "vercel.json"})
MAX_CONTEXT_FILES = 8
MAX_FILE_CHARS = 12_000
MAX_CONTEXT_CHARS = 48_000
_WORD = re.compile(r"[a-z][a-z0-9]{2,}")
_STOP = frozenset({"the", "and", "for", "with", "that", "this", "from", "should", "would", "when", "into", "issue"})


@dataclass(frozen=True)
class DeveloperResult:
    outcome: str  # "opened", "rejected", "skipped" or "failed"
    detail: str = ""
    pull_request_url: str | None = None
    rejections: list[str] = field(default_factory=list)


def path_problem(path: str) -> str | None:
    """Why `path` may not be written by a generated change, or None when it may."""
    if not path or "\x00" in path or "\\" in path:
        return f"{path!r}: not a plain relative path"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or path.startswith("~"):
        return f"{path!r}: absolute paths are outside the repository"
    parts = PurePosixPath(path).parts
    if ".." in parts or posixpath.normpath(path) != path:
        return f"{path!r}: leaves or escapes the repository"
    if path in PROTECTED_FILES or path.startswith(".env") or any(path.startswith(prefix) for prefix in PROTECTED_PREFIXES):
        return f"{path!r}: protected path"
    return None


def check_change(change: DeveloperChange) -> list[str]:
    """All reasons to reject a proposed change; empty when it is acceptable."""
    problems: list[str] = []
    seen: set[str] = set()
    for generated in [*change.files, *change.tests]:
        problem = path_problem(generated.path)
        if problem:
            problems.append(problem)
            continue
        if generated.path in seen:
            problems.append(f"{generated.path!r}: given twice")
        seen.add(generated.path)
        if generated.path.endswith(".py"):
            try:
                compile(generated.content, generated.path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                line = getattr(error, "lineno", None)
                problems.append(f"{generated.path!r}: does not compile (line {line}: {getattr(error, 'msg', error)})")
    for test in change.tests:
        name = PurePosixPath(test.path).name
        if not test.path.startswith("tests/") or not name.startswith("test_"):
            problems.append(f"{test.path!r}: tests belong in tests/ and are named test_*.py")
    return problems


def rank_paths(paths: list[str], query: str, limit: int = MAX_CONTEXT_FILES) -> list[str]:
    """A simple ranked retrieval: shared words between the issue and each path."""
    terms = {word for word in _WORD.findall(query.lower()) if word not in _STOP}
    scored: list[tuple[float, str]] = []
    for path in paths:
        if PurePosixPath(path).suffix not in TEXT_SUFFIXES or path_problem(path):
            continue
        words = set(_WORD.findall(path.lower().replace("_", " ").replace("-", " ")))
        score = 3.0 * len(terms & words)
        score += sum(1.0 for term in terms if term in path.lower())
        if path.endswith(".py"):
            score += 0.5
        if path.startswith("src/agents/") or path in {"README.md", "pyproject.toml"}:
            score += 0.25
        if score > 0:
            scored.append((score, path))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, path in scored[:limit]]


class DeveloperAgent(BaseAgent):
    name = "developer"

    def agent_config(self) -> AgentConfig:
        return self.config.developer

    def run(self, issue_number: int) -> DeveloperResult:
        issue = self.github.get_issue(self.repository, issue_number)
        labels = {label.get("name") for label in issue.get("labels", []) if isinstance(label, dict)}
        if issue.get("state") != "open" or "pull_request" in issue:
            return self._skip(issue_number, "not an open issue")
        if LABEL_READY_FOR_DEV not in labels:
            return self._skip(issue_number, f"the issue is not labelled {LABEL_READY_FOR_DEV}")

        spec = self._specification(issue)
        repository = self.github.get_repository(self.repository)
        base_branch = repository.get("default_branch") or "main"
        base_sha = self.github.branch_sha(self.repository, base_branch)
        if base_sha is None:
            return self._fail(issue_number, f"default branch {base_branch!r} not found")
        context = self._context_files(base_sha, f"{issue.get('title', '')}\n{spec}")
        slug = slugify(issue.get("title") or "change")
        metadata = {"issue_number": issue_number, "issue_title": clean_untrusted(issue.get("title")), "slug": slug}
        message = self._user_message(issue, spec, context)

        rejections: list[str] = []
        change: DeveloperChange | None = None
        try:
            for _ in range(2):
                change, _response = self.ask(DeveloperChange, "developer_change", message, metadata)
                rejections = check_change(change)
                if not rejections:
                    break
                self.log_action("change_rejected", {"reasons": rejections}, issue_number)
                message += "\n\n# Your previous change was rejected\n" + "\n".join(f"- {r}" for r in rejections)
        except (StructuredOutputError, LLMError, BudgetExceededError) as error:
            return self._fail(issue_number, f"{error.__class__.__name__}: {error}")
        if change is None or rejections:
            return self._reject(issue_number, rejections)
        return self._open_pull_request(issue_number, issue, change, slug, base_branch, base_sha)

    # -- steps -----------------------------------------------------------------------------
    def _specification(self, issue: dict[str, Any]) -> str:
        """The Product Owner's refined description when there is one, else the issue body."""
        history = self.store.conversation(self.repository, int(issue["number"]))
        for message in reversed(history):
            if message.role == "assistant" and "ready for development" in message.content.lower():
                return message.content
        return issue.get("body") or ""

    def _context_files(self, base_sha: str, query: str) -> dict[str, str]:
        paths = [entry["path"] for entry in self.github.tree(self.repository, base_sha) if entry.get("size", 0) < 200_000]
        files: dict[str, str] = {}
        total = 0
        for path in rank_paths(paths, query):
            text = self.github.file_text(self.repository, path, base_sha)
            if text is None:
                continue
            text = text[:MAX_FILE_CHARS]
            if total + len(text) > MAX_CONTEXT_CHARS:
                break
            files[path] = text
            total += len(text)
        return files

    def _user_message(self, issue: dict[str, Any], spec: str, context: dict[str, str]) -> str:
        parts = [
            f"# Issue #{issue.get('number')}",
            fence("issue-title", issue.get("title")),
            "# Specification",
            fence("specification", spec),
        ]
        if context:
            parts.append("# Relevant files of the repository (read-only context)")
            parts += [f"File `{path}`:\n" + fence("file", text) for path, text in context.items()]
        parts.append(
            "# Task\nImplement the specification as a small change. Return `files` (full content of each "
            "new or changed file, repository-relative paths) and `tests` (pytest files under tests/, named "
            "test_*.py). Do not touch .github/, osorganicai/, migrations or secrets. Python must compile."
        )
        return "\n\n".join(parts)

    def _open_pull_request(
        self,
        issue_number: int,
        issue: dict[str, Any],
        change: DeveloperChange,
        slug: str,
        base_branch: str,
        base_sha: str,
    ) -> DeveloperResult:
        branch = f"feature/issue-{issue_number}-{slug}"
        if self.github.branch_sha(self.repository, branch) is None:
            self.github.create_branch(self.repository, branch, base_sha)
        files = {generated.path: generated.content for generated in [*change.files, *change.tests]}
        title = clean_untrusted(issue.get("title"), 200).replace("\n", " ")
        commit_sha = self.github.commit_files(
            self.repository, branch, files, f"Implement #{issue_number}: {title}\n\n{change.summary[:2000]}"
        )
        pull = self.github.find_open_pull(self.repository, branch) or self.github.create_pull(
            self.repository,
            head=branch,
            base=base_branch,
            title=f"#{issue_number}: {title}",
            body=(
                f"Closes #{issue_number}.\n\n{clean_untrusted(change.summary, 5000)}\n\n"
                "Files:\n" + "\n".join(f"- `{path}`" for path in sorted(files))
                + "\n\nOpened as a draft: review the change and the tests, then mark it ready and merge."
                + self.provider_footer()
            ),
            draft=True,
        )
        self.github.create_comment(
            self.repository, issue_number, f"Draft pull request opened: {pull.url}" + self.provider_footer()
        )
        self.store.record_code_generation(
            repository=self.repository,
            issue_number=issue_number,
            status="opened",
            job_id=self.job_id,
            branch=branch,
            commit_sha=commit_sha,
            pull_request_number=pull.number,
            pull_request_url=pull.url,
            files=sorted(files),
            provider=self.llm.name,
            model=self.model_name(),
            input_tokens=self.budget.input_tokens,
            output_tokens=self.budget.output_tokens,
            cost_usd=self.budget.cost_usd,
        )
        self.log_action("opened_pull_request", {"branch": branch, "commit": commit_sha, "pull": pull.number}, issue_number)
        return DeveloperResult("opened", branch, pull.url)

    def _skip(self, issue_number: int, reason: str) -> DeveloperResult:
        self.log_action("skipped", {"reason": reason}, issue_number)
        return DeveloperResult("skipped", reason)

    def _reject(self, issue_number: int, rejections: list[str]) -> DeveloperResult:
        self.store.record_code_generation(
            repository=self.repository,
            issue_number=issue_number,
            status="rejected",
            job_id=self.job_id,
            rejection_reasons=rejections,
            provider=self.llm.name,
            model=self.model_name(),
            input_tokens=self.budget.input_tokens,
            output_tokens=self.budget.output_tokens,
            cost_usd=self.budget.cost_usd,
        )
        self.github.create_comment(
            self.repository,
            issue_number,
            "The Developer agent's change was rejected and nothing was committed:\n\n"
            + "\n".join(f"- {reason}" for reason in rejections[:20])
            + self.provider_footer(),
        )
        return DeveloperResult("rejected", "; ".join(rejections), rejections=rejections)

    def _fail(self, issue_number: int, reason: str) -> DeveloperResult:
        self.log_action("failed", {"error": reason[:1000]}, issue_number)
        self.store.record_code_generation(
            repository=self.repository,
            issue_number=issue_number,
            status="failed",
            job_id=self.job_id,
            rejection_reasons=[reason[:1000]],
            provider=self.llm.name,
        )
        self.github.create_comment(
            self.repository,
            issue_number,
            f"The Developer agent could not complete this issue ({reason[:300]}). "
            "A maintainer can re-run the agent workflow." + self.provider_footer(),
        )
        return DeveloperResult("failed", reason)
