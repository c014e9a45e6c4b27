"""A small GitHub REST client over httpx: token or GitHub App auth, rate limits, typed errors.

Only the calls the runtime needs. Credentials: `GITHUB_TOKEN` (a fine-grained token), or a
GitHub App (`GITHUB_APP_ID`, `GITHUB_APP_PRIVATE_KEY`, `GITHUB_APP_INSTALLATION_ID`) whose
installation token is minted on demand and cached until shortly before it expires.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .deadline import budget
from .settings import MissingSettingError, Settings

API_VERSION = "2022-11-28"
USER_AGENT = "osorganicai-runtime"
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write", "triage"})
MARK_READY_MUTATION = (
    "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { number isDraft } } }"
)


class GitHubError(RuntimeError):
    """GitHub answered with an error status; `message` is GitHub's own (with its `errors[].message`)."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        self.status = status
        self.path = path
        self.message = message
        super().__init__(f"GitHub {method} {path} failed with {status}: {message}")


class GitHubRateLimitError(GitHubError):
    """GitHub's rate limit is exhausted for longer than the caller is willing to wait."""

    def __init__(self, method: str, path: str, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(429, method, path, f"rate limited, retry in {wait_seconds:.0f}s")


class GitHubUnavailableError(RuntimeError):
    """GitHub could not be reached (network error or repeated 5xx)."""


class TokenAuth:
    def __init__(self, token: str) -> None:
        self._token = token

    def header(self, client: GitHubClient) -> str:
        return f"Bearer {self._token}"


class AppAuth:
    """GitHub App installation auth: a short JWT buys an installation token, cached."""

    def __init__(self, app_id: str, private_key: str, installation_id: str, clock: Callable[[], float] = time.time):
        self._app_id = app_id
        # Keys pasted into one-line environment variables often carry literal "\n".
        self._private_key = private_key.replace("\\n", "\n")
        self._installation_id = installation_id
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def app_jwt(self) -> str:
        import jwt  # PyJWT; imported only when App auth is used

        now = int(self._clock())
        claims = {"iat": now - 60, "exp": now + 540, "iss": self._app_id}
        return jwt.encode(claims, self._private_key, algorithm="RS256")

    def header(self, client: GitHubClient) -> str:
        if self._token is None or self._clock() > self._expires_at - 300:
            response = client.raw_request(
                "POST",
                f"/app/installations/{quote(self._installation_id)}/access_tokens",
                authorization=f"Bearer {self.app_jwt()}",
            )
            data = response.json()
            self._token = data["token"]
            expires = data.get("expires_at")
            self._expires_at = _parse_github_time(expires) if expires else self._clock() + 3000
        return f"Bearer {self._token}"


def _parse_github_time(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def auth_from_settings(settings: Settings) -> TokenAuth | AppAuth:
    token = settings.get("GITHUB_TOKEN")
    if token:
        return TokenAuth(token)
    app_id = settings.get("GITHUB_APP_ID")
    if app_id:
        return AppAuth(
            app_id,
            settings.require("GITHUB_APP_PRIVATE_KEY"),
            settings.require("GITHUB_APP_INSTALLATION_ID"),
        )
    raise MissingSettingError(
        "GITHUB_TOKEN", "a fine-grained token, or set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID"
    )


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a git tree as the Git data API shows it."""

    path: str
    mode: str  # 100644, 100755, 120000 (symlink), 160000 (submodule), 040000 (tree)
    type: str  # blob, tree or commit
    sha: str


@dataclass(frozen=True)
class IssueComment:
    id: int
    body: str
    author_login: str | None


class GitHubClient:
    def __init__(
        self,
        auth: TokenAuth | AppAuth,
        *,
        base_url: str = "https://api.github.com",
        transport: httpx.BaseTransport | None = None,
        timeout: float = 15.0,
        max_attempts: int = 3,
        max_rate_limit_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._auth = auth
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
        )
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_rate_limit_wait = max_rate_limit_wait
        self._sleep = sleep
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> GitHubClient:
        return cls(auth_from_settings(settings), base_url=settings.github_api_url, **kwargs)

    def close(self) -> None:
        self._http.close()

    def app_jwt(self) -> str | None:
        """The GitHub App's own JWT, for the `/app` endpoints; None with a token."""
        return self._auth.app_jwt() if isinstance(self._auth, AppAuth) else None

    # -- transport ---------------------------------------------------------------------------
    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying, or None when the response is not a rate limit."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("retry-after")
        if retry_after and retry_after.isdigit():
            return float(retry_after)
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset", "")
            if reset.isdigit():
                return max(0.0, float(reset) - self._clock()) + 1.0
            return 60.0
        if response.status_code == 429 or "rate limit" in response.text.lower():
            return 60.0  # secondary rate limit without headers: GitHub asks for at least a minute
        return None

    def raw_request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authorization: str | None = None,
        allow: tuple[int, ...] = (),
        landed: Callable[[], httpx.Response | None] | None = None,
    ) -> httpx.Response:
        """One call, retried on network errors, 5xx and rate limits.

        A POST is not idempotent: after a network error or a 5xx it is retried only when `landed` is
        given and finds that the first attempt did not land (`landed` returns None); when it finds the
        result, that is the answer. Without `landed`, a POST is not retried after such a failure.
        """
        attempt = 0
        while True:
            attempt += 1
            request_headers = dict(headers or {})
            request_headers["Authorization"] = authorization or self._auth.header(self)
            timeout = budget(self._timeout)  # less when the caller's deadline leaves less (deadline.py)
            if timeout <= 0:
                raise GitHubUnavailableError(f"GitHub {method} {path}: not sent, the caller's deadline has passed")
            try:
                response = self._http.request(method, path, json=json, params=params, headers=request_headers, timeout=timeout)
            except httpx.TransportError as error:
                if attempt >= self._max_attempts or (method == "POST" and landed is None):
                    raise GitHubUnavailableError(f"GitHub {method} {path}: {error.__class__.__name__}: {error}") from error
                if method == "POST" and landed is not None and (found := landed()) is not None:
                    return found
                self._sleep(min(2.0**attempt, 8.0))
                continue
            if response.is_success or response.status_code in allow:
                return response
            wait = self._rate_limit_wait(response)
            if wait is not None:
                if wait > self._max_rate_limit_wait or attempt >= self._max_attempts:
                    raise GitHubRateLimitError(method, path, wait)
                self._sleep(wait)
                continue
            retryable = method != "POST" or landed is not None
            if response.status_code >= 500 and attempt < self._max_attempts and retryable:
                if method == "POST" and landed is not None and (found := landed()) is not None:
                    return found
                self._sleep(min(2.0**attempt, 8.0))
                continue
            if response.status_code >= 500:
                raise GitHubUnavailableError(
                    f"GitHub {method} {path} failed with {response.status_code}: {_error_message(response)}"
                )
            raise GitHubError(response.status_code, method, path, _error_message(response))

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.raw_request(method, path, **kwargs)
        return response.json() if response.content else None

    # -- issues ------------------------------------------------------------------------------
    def get_issue(self, repository: str, number: int) -> dict[str, Any]:
        return self._json("GET", f"/repos/{repository}/issues/{number}")

    def list_comments(self, repository: str, number: int, max_pages: int = 5) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        for page in range(1, max_pages + 1):
            batch = self._json("GET", f"/repos/{repository}/issues/{number}/comments", params={"per_page": 100, "page": page})
            comments.extend(batch)
            if len(batch) < 100:
                break
        return comments

    def create_comment(self, repository: str, number: int, body: str) -> dict[str, Any]:
        """A new comment; after a failed attempt it is re-sent only if the comments do not hold it yet."""
        path = f"/repos/{repository}/issues/{number}/comments"

        def landed() -> httpx.Response | None:
            for comment in reversed(self.list_comments(repository, number)):
                if comment.get("body") == body:
                    return httpx.Response(201, json=comment)
            return None

        return self.raw_request("POST", path, json={"body": body}, landed=landed).json()

    def close_issue(self, repository: str, number: int, reason: str = "completed") -> None:
        self._json("PATCH", f"/repos/{repository}/issues/{number}", json={"state": "closed", "state_reason": reason})

    def add_labels(self, repository: str, number: int, labels: list[str]) -> None:
        self._json("POST", f"/repos/{repository}/issues/{number}/labels", json={"labels": labels})

    def remove_label(self, repository: str, number: int, label: str) -> bool:
        """Remove a label; False when the issue did not carry it."""
        response = self.raw_request("DELETE", f"/repos/{repository}/issues/{number}/labels/{quote(label, safe='')}", allow=(404,))
        return response.status_code != 404

    def collaborator_permission(self, repository: str, login: str) -> str | None:
        """The user's permission (admin, maintain, write, triage, read), None if not a collaborator."""
        response = self.raw_request("GET", f"/repos/{repository}/collaborators/{quote(login, safe='')}/permission", allow=(404,))
        if response.status_code == 404:
            return None
        data = response.json()
        return data.get("role_name") or data.get("permission")

    def dispatch(self, repository: str, event_type: str, client_payload: dict[str, Any]) -> None:
        self.raw_request(
            "POST",
            f"/repos/{repository}/dispatches",
            json={"event_type": event_type, "client_payload": client_payload},
        )

    def cancel_workflow_run(self, repository: str, run_id: int) -> bool:
        """Ask GitHub to cancel a workflow run (202); False when the run had already completed (409).

        Cancelling is idempotent, so a failed attempt may be sent again (`landed` finds nothing)."""
        response = self.raw_request(
            "POST", f"/repos/{repository}/actions/runs/{int(run_id)}/cancel", allow=(409,), landed=lambda: None
        )
        return response.status_code != 409

    # -- repository contents ----------------------------------------------------------------
    def get_repository(self, repository: str) -> dict[str, Any]:
        return self._json("GET", f"/repos/{repository}")

    def branch_sha(self, repository: str, branch: str) -> str | None:
        response = self.raw_request("GET", f"/repos/{repository}/git/ref/heads/{quote(branch, safe='/')}", allow=(404,))
        if response.status_code == 404:
            return None
        return response.json()["object"]["sha"]

    def create_branch(self, repository: str, branch: str, sha: str) -> None:
        def landed() -> httpx.Response | None:
            if self.branch_sha(repository, branch) == sha:
                return httpx.Response(201, json={"ref": f"refs/heads/{branch}"})
            return None

        self.raw_request("POST", f"/repos/{repository}/git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha}, landed=landed)

    def delete_branch(self, repository: str, branch: str) -> bool:
        """Delete a branch; False when it was already gone."""
        response = self.raw_request("DELETE", f"/repos/{repository}/git/refs/heads/{quote(branch, safe='/')}", allow=(404, 422))
        return response.status_code == 204

    def tree(self, repository: str, sha: str) -> list[dict[str, Any]]:
        """Every blob of a tree. A recursive listing GitHub truncated is completed folder by folder."""
        entries, truncated = self.tree_entries(repository, sha, recursive=True)
        if truncated:
            entries = self._walk_tree(repository, sha, "")
        blobs = [entry for entry in entries if entry.type == "blob"]
        return [{"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha} for entry in blobs]

    def _walk_tree(self, repository: str, sha: str, prefix: str) -> list[TreeEntry]:
        found: list[TreeEntry] = []
        entries, _ = self.tree_entries(repository, sha, recursive=False)
        for entry in entries:
            path = f"{prefix}{entry.path}"
            if entry.type == "tree":
                found.extend(self._walk_tree(repository, entry.sha, f"{path}/"))
            else:
                found.append(TreeEntry(path=path, mode=entry.mode, type=entry.type, sha=entry.sha))
        return found

    def file_text(self, repository: str, path: str, ref: str) -> str | None:
        response = self.raw_request(
            "GET",
            f"/repos/{repository}/contents/{quote(path)}",
            params={"ref": ref},
            headers={"Accept": "application/vnd.github.raw+json"},
            allow=(404,),
        )
        if response.status_code == 404:
            return None
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def commit_files(self, repository: str, branch: str, files: dict[str, str], message: str) -> str:
        """One commit on `branch` adding or replacing `files`; returns the commit sha."""
        head = self.branch_sha(repository, branch)
        if head is None:
            raise GitHubError(404, "GET", f"/repos/{repository}/git/ref/heads/{branch}", "branch not found")
        base_commit = self._json("GET", f"/repos/{repository}/git/commits/{head}")
        tree = self._json(
            "POST",
            f"/repos/{repository}/git/trees",
            json={
                "base_tree": base_commit["tree"]["sha"],
                "tree": [
                    {"path": path, "mode": "100644", "type": "blob", "content": content}
                    for path, content in sorted(files.items())
                ],
            },
        )
        commit = self._json(
            "POST",
            f"/repos/{repository}/git/commits",
            json={"message": message, "tree": tree["sha"], "parents": [head]},
        )
        self._json(
            "PATCH",
            f"/repos/{repository}/git/refs/heads/{quote(branch, safe='/')}",
            json={"sha": commit["sha"], "force": False},
        )
        return commit["sha"]

    def find_open_pull(self, repository: str, head_branch: str) -> PullRequest | None:
        owner = repository.split("/", 1)[0]
        pulls = self._json("GET", f"/repos/{repository}/pulls", params={"head": f"{owner}:{head_branch}", "state": "open"})
        if pulls:
            return PullRequest(number=pulls[0]["number"], url=pulls[0]["html_url"])
        return None

    def create_pull(self, repository: str, *, head: str, base: str, title: str, body: str, draft: bool = True) -> PullRequest:
        data = self._json(
            "POST",
            f"/repos/{repository}/pulls",
            json={"head": head, "base": base, "title": title, "body": body, "draft": draft},
        )
        return PullRequest(number=data["number"], url=data["html_url"])

    def get_pull(self, repository: str, number: int) -> dict[str, Any]:
        return self._json("GET", f"/repos/{repository}/pulls/{number}")

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """POST /graphql; GitHub answers 200 with `errors` when the query fails: those raise."""
        response = self.raw_request("POST", "/graphql", json={"query": query, "variables": variables})
        data = response.json()
        errors = data.get("errors") if isinstance(data, dict) else None
        if errors:
            messages = "; ".join(str(error.get("message") if isinstance(error, dict) else error) for error in errors)
            raise GitHubError(response.status_code, "POST", "/graphql", messages[:600])
        return data.get("data") or {}

    def mark_ready_for_review(self, pull_node_id: str) -> bool:
        """Take a draft pull request out of draft (REST cannot: GraphQL `markPullRequestReadyForReview`)."""
        data = self.graphql(MARK_READY_MUTATION, {"id": pull_node_id})
        pull = (data.get("markPullRequestReadyForReview") or {}).get("pullRequest") or {}
        return pull.get("isDraft") is False

    def request_reviewers(self, repository: str, number: int, reviewers: list[str]) -> None:
        if reviewers:
            self._json("POST", f"/repos/{repository}/pulls/{number}/requested_reviewers", json={"reviewers": reviewers})

    def reviews(self, repository: str, number: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/repos/{repository}/pulls/{number}/reviews", params={"per_page": 100}) or []

    def review_comments(self, repository: str, number: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/repos/{repository}/pulls/{number}/comments", params={"per_page": 100}) or []

    def reply_to_review_comment(self, repository: str, number: int, comment_id: int, body: str) -> dict[str, Any]:
        """A reply in the review thread of `comment_id` (a top-level review comment)."""

        def landed() -> httpx.Response | None:
            for comment in self.review_comments(repository, number):
                if comment.get("in_reply_to_id") == comment_id and comment.get("body") == body:
                    return httpx.Response(201, json=comment)
            return None

        path = f"/repos/{repository}/pulls/{number}/comments/{comment_id}/replies"
        return self.raw_request("POST", path, json={"body": body}, landed=landed).json()

    def check_runs(self, repository: str, ref: str) -> list[dict[str, Any]]:
        data = self._json("GET", f"/repos/{repository}/commits/{quote(ref, safe='')}/check-runs", params={"per_page": 100})
        return list((data or {}).get("check_runs") or [])

    def check_run_annotations(self, repository: str, check_run_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/repos/{repository}/check-runs/{check_run_id}/annotations", params={"per_page": 50}) or []

    def job_log_tail(self, repository: str, job_id: int, max_chars: int = 4000) -> str | None:
        """The end of a GitHub Actions job's log (GitHub redirects to the log file), None when it has none."""
        response = self.raw_request("GET", f"/repos/{repository}/actions/jobs/{job_id}/logs", allow=(302, 404, 410))
        if response.status_code in (404, 410):
            return None
        if response.is_redirect:
            location = response.headers.get("location", "")
            with httpx.Client(timeout=15.0, follow_redirects=True) as plain:
                response = plain.get(location)
            if not response.is_success:
                return None
        return response.text[-max_chars:]

    def update_pull(self, repository: str, number: int, *, title: str, body: str) -> PullRequest:
        data = self._json("PATCH", f"/repos/{repository}/pulls/{number}", json={"title": title, "body": body})
        return PullRequest(number=data["number"], url=data["html_url"])

    # -- issue comments, edited in place -------------------------------------------------------
    def issue_comments(self, repository: str, number: int, max_pages: int = 10) -> list[IssueComment]:
        return [
            IssueComment(
                id=int(comment["id"]),
                body=comment.get("body") or "",
                author_login=(comment.get("user") or {}).get("login"),
            )
            for comment in self.list_comments(repository, number, max_pages=max_pages)
        ]

    def update_comment(self, repository: str, comment_id: int, body: str) -> dict[str, Any]:
        return self._json("PATCH", f"/repos/{repository}/issues/comments/{comment_id}", json={"body": body})

    # -- git data: refs, commits, trees, blobs ---------------------------------------------------
    def matching_branches(self, repository: str, prefix: str) -> dict[str, str]:
        """Branches whose name starts with `prefix`, mapped to their head sha."""
        refs = self._json("GET", f"/repos/{repository}/git/matching-refs/heads/{quote(prefix, safe='/')}")
        return {
            ref["ref"].removeprefix("refs/heads/"): ref["object"]["sha"]
            for ref in refs or []
            if ref.get("ref", "").startswith("refs/heads/")
        }

    def update_branch(self, repository: str, branch: str, sha: str) -> None:
        """Move `branch` to `sha`, only as a fast-forward (GitHub answers 422 otherwise)."""
        self._json(
            "PATCH",
            f"/repos/{repository}/git/refs/heads/{quote(branch, safe='/')}",
            json={"sha": sha, "force": False},
        )

    def get_commit(self, repository: str, sha: str) -> dict[str, Any]:
        return self._json("GET", f"/repos/{repository}/git/commits/{sha}")

    def commit_tree_sha(self, repository: str, sha: str) -> str:
        return self.get_commit(repository, sha)["tree"]["sha"]

    def compare_status(self, repository: str, base: str, head: str) -> str:
        """How `head` relates to `base`: identical, ahead, behind or diverged."""
        data = self._json("GET", f"/repos/{repository}/compare/{base}...{head}", params={"per_page": 1})
        return str(data["status"])

    def tree_entries(self, repository: str, tree_sha: str, *, recursive: bool = True) -> tuple[list[TreeEntry], bool]:
        """The entries of a tree and whether GitHub truncated the list (too large for one answer)."""
        params = {"recursive": "1"} if recursive else None
        data = self._json("GET", f"/repos/{repository}/git/trees/{tree_sha}", params=params)
        entries = [
            TreeEntry(path=entry["path"], mode=entry["mode"], type=entry["type"], sha=entry["sha"])
            for entry in data.get("tree", [])
        ]
        return entries, bool(data.get("truncated"))

    def get_blob(self, repository: str, sha: str) -> bytes:
        data = self._json("GET", f"/repos/{repository}/git/blobs/{sha}")
        if data.get("encoding") == "base64":
            return base64.b64decode(data.get("content") or "")
        return (data.get("content") or "").encode("utf-8")

    def create_blob(self, repository: str, content: bytes) -> str:
        data = self._json(
            "POST",
            f"/repos/{repository}/git/blobs",
            json={"content": base64.b64encode(content).decode("ascii"), "encoding": "base64"},
        )
        return data["sha"]

    def create_tree(self, repository: str, base_tree: str | None, entries: list[dict[str, Any]]) -> str:
        """A new tree: `base_tree` with `entries` ({path, mode, type, sha}; sha None deletes the path)."""
        body: dict[str, Any] = {"tree": entries}
        if base_tree is not None:
            body["base_tree"] = base_tree
        return self._json("POST", f"/repos/{repository}/git/trees", json=body)["sha"]

    def create_commit(self, repository: str, *, message: str, tree: str, parents: list[str]) -> str:
        data = self._json("POST", f"/repos/{repository}/git/commits", json={"message": message, "tree": tree, "parents": parents})
        return data["sha"]


def _error_message(response: httpx.Response) -> str:
    """GitHub's `message`, followed by each `errors[].message` (or code and field) it gives."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if not isinstance(data, dict):
        return str(data)[:300]
    message = str(data.get("message") or "").strip()
    details = [_error_detail(item) for item in data.get("errors") or []]
    details = [detail for detail in details if detail and detail != message]
    if details:
        message = f"{message}: {'; '.join(details)}" if message else "; ".join(details)
    return (message or str(data))[:600]


def _error_detail(item: Any) -> str:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return ""
    if item.get("message"):
        return str(item["message"])
    parts = [str(item[key]) for key in ("resource", "field", "code") if item.get(key)]
    return " ".join(parts)
