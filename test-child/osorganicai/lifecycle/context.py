"""What a `fix` or `revise` run is told, and how a revise run answers its reviewers.

`fix_context` names the pull request head's failing checks with their annotations and the tail of
the failed GitHub Actions job logs. `review_context` lists the review comments still unanswered by
the runtime, each with its file and line, and the reviews' bodies. Both come from people or tools,
so the Developer fences them as untrusted text. `answer_reviews` runs in the publishing job after a
revise run pushed its commit: one reply in each unanswered thread (REST reply endpoint), then the
review is requested again from those who reviewed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..github import GitHubClient, GitHubError
from ..labels import is_runtime_text, same_login, with_marker

GREEN = frozenset({"success", "neutral", "skipped"})
MAX_ANNOTATIONS = 20
LOG_TAIL_CHARS = 3000
MAX_CONTEXT_CHARS = 24_000


@dataclass(frozen=True)
class ReviewThread:
    comment_id: int
    path: str
    line: int | None
    author: str
    body: str


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def fix_context(github: GitHubClient, repository: str, head_sha: str) -> str:
    """The failing checks on `head_sha`: name, conclusion, summary, annotations and the job log's tail."""
    parts: list[str] = []
    for run in github.check_runs(repository, head_sha):
        if run.get("status") != "completed" or run.get("conclusion") in GREEN:
            continue
        output = _dict(run.get("output"))
        lines = [f"## Check `{run.get('name')}`: {run.get('conclusion')}"]
        for key in ("title", "summary"):
            if output.get(key):
                lines.append(str(output[key])[:1500])
        if output.get("annotations_count"):
            for note in github.check_run_annotations(repository, int(run["id"]))[:MAX_ANNOTATIONS]:
                where = f"{note.get('path')}:{note.get('start_line')}"
                lines.append(f"- {where} [{note.get('annotation_level')}] {str(note.get('message') or '')[:500]}")
        if _is_actions_run(run):
            try:
                tail = github.job_log_tail(repository, int(run["id"]), LOG_TAIL_CHARS)
            except GitHubError as error:
                tail = f"(the log could not be read: {error.message})"
            if tail:
                lines.append(f"The end of the job's log:\n{tail}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)[-MAX_CONTEXT_CHARS:]


def _is_actions_run(run: dict[str, Any]) -> bool:
    """GitHub Actions' check runs are its jobs: the check run id is the job id."""
    return _dict(run.get("app")).get("slug") == "github-actions"


def unanswered_threads(github: GitHubClient, repository: str, number: int) -> list[ReviewThread]:
    """Review threads whose last word is not the runtime's (recognised by its marker, whoever posted it)."""
    comments = github.review_comments(repository, number)
    threads: dict[int, list[dict[str, Any]]] = {}
    for comment in comments:
        root = comment.get("in_reply_to_id") or comment.get("id")
        threads.setdefault(int(root), []).append(comment)
    open_threads: list[ReviewThread] = []
    for root_id, thread in threads.items():
        last = thread[-1]
        if is_runtime_text(last.get("body")):
            continue
        first = next((comment for comment in thread if comment.get("id") == root_id), thread[0])
        body = "\n".join(
            f"@{_dict(c.get('user')).get('login')}: {c.get('body') or ''}" for c in thread if not is_runtime_text(c.get("body"))
        )
        line = first.get("line") if isinstance(first.get("line"), int) else first.get("original_line")
        open_threads.append(
            ReviewThread(root_id, str(first.get("path") or ""), line, str(_dict(first.get("user")).get("login") or ""), body)
        )
    return open_threads


def review_context(github: GitHubClient, repository: str, number: int) -> str:
    """The reviews' bodies and the unanswered review comments with their file and line."""
    parts: list[str] = []
    for review in github.reviews(repository, number):
        body = str(review.get("body") or "").strip()
        if body and not is_runtime_text(body) and review.get("state") in ("CHANGES_REQUESTED", "COMMENTED"):
            parts.append(f"Review by @{_dict(review.get('user')).get('login')} ({review.get('state')}):\n{body}")
    for thread in unanswered_threads(github, repository, number):
        where = f"{thread.path}:{thread.line}" if thread.line else thread.path
        parts.append(f"Comment on `{where}`:\n{thread.body}")
    for comment in github.list_comments(repository, number):
        body = str(comment.get("body") or "")
        if body.strip() and not is_runtime_text(body):
            parts.append(f"Comment on the pull request by @{_dict(comment.get('user')).get('login')}:\n{body}")
    return "\n\n".join(parts)[-MAX_CONTEXT_CHARS:]


def answer_reviews(
    github: GitHubClient, repository: str, number: int, *, commit_sha: str, summary: str, bot_login: str | None
) -> list[int]:
    """Reply in each unanswered review thread with what changed, then re-request the review."""
    threads = unanswered_threads(github, repository, number)
    text = " ".join(summary.split())[:1500] or "see the pull request's description"
    replied: list[int] = []
    for thread in threads:
        body = with_marker(f"Changed in {commit_sha[:12]}: {text}")
        github.reply_to_review_comment(repository, number, thread.comment_id, body)
        replied.append(thread.comment_id)
    reviewers = sorted(
        {
            str(_dict(review.get("user")).get("login"))
            for review in github.reviews(repository, number)
            if review.get("state") in ("CHANGES_REQUESTED", "COMMENTED")
            and _dict(review.get("user")).get("login")
            and not same_login(_dict(review.get("user")).get("login"), bot_login)
        }
        | {thread.author for thread in threads if thread.author and not same_login(thread.author, bot_login)}
    )
    if reviewers:
        github.request_reviewers(repository, number, reviewers)
    return replied
