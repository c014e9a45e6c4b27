"""A fake GitHub over real HTTP, backed by a real bare git repository (git plumbing via subprocess).

`FakeGitHubGit` serves GitHub's documented REST shapes on 127.0.0.1 (a threaded `http.server`), so
the runtime's httpx code path is what the tests exercise. State lives in a bare repository (objects
and branch refs) and in memory (issues, comments, pull requests). Every request must carry
`Authorization: Bearer <token>` (or `token <token>`); otherwise 401 `Bad credentials`.

Routes, all under /repos/{owner}/{name}:
    GET    ""                                   the repository (`default_branch`, `full_name`, `owner`)
    GET    /issues/N                            an issue added with `add_issue`
    GET    /issues/N/comments   POST            list (per_page/page) and create comments (author: bot_login)
    PATCH  /issues/comments/ID                  edit a comment's body
    POST   /issues/N/labels   DELETE /issues/N/labels/NAME
    GET    /collaborators/LOGIN/permission      from `permissions` (404 when the login is not there)
    GET    /git/ref/heads/B                     one branch ref
    GET    /git/matching-refs/heads/PREFIX      branch refs whose name starts with PREFIX
    POST   /git/refs                            create a ref (422 `Reference already exists`)
    PATCH  /git/refs/heads/B                    move a ref; with force false, 422 `Update is not a fast forward`
    GET    /git/commits/S   POST /git/commits   read and create commits (pinned identity and dates)
    GET    /git/trees/S[?recursive=1]           entries; a recursive listing over `max_tree_entries` is `truncated`
    POST   /git/trees                           `base_tree`, entries with `content` or `sha`; sha null deletes
    GET    /git/blobs/S     POST /git/blobs     base64 blobs
    GET    /compare/BASE...HEAD                 `status`: identical, ahead, behind or diverged
    GET    /pulls?head=owner:branch&state=      POST /pulls (`refuse_drafts` answers drafts with 422)
    PATCH  /pulls/N                             edit title, body or state
    GET    /contents/PATH?ref=                  the raw file (Accept: application/vnd.github.raw+json)
    PATCH  /issues/N                            state (closed) and state_reason
    GET    /pulls/N                             one pull request (`node_id`, `draft`, `merged`, `head.sha`)
    POST   /pulls/N/requested_reviewers         recorded in `requested_reviewers`
    GET    /pulls/N/reviews                     reviews added with `add_review`
    GET    /pulls/N/comments                    review comments (`add_review_comment`, and replies)
    POST   /pulls/N/comments/ID/replies         a reply in the thread of top-level comment ID (404 for a reply's id)
    GET    /commits/SHA/check-runs              check runs added with `add_check_run`
    GET    /check-runs/ID/annotations           their annotations
    GET    /actions/jobs/ID/logs                302 to the job's log (served without credentials, as GitHub's are)
    DELETE /git/refs/heads/B                    delete a branch (422 `Reference does not exist`)
    POST   /dispatches                          recorded in `dispatches`
    POST   /graphql (not under /repos)          `markPullRequestReadyForReview` (errors as GitHub's GraphQL gives them)

Test API (see each method):
    with FakeGitHubGit(tmp_path / "github", repository="o/r", bot_login="bot[bot]") as github:
        github.create_repository({"README.md": "hi\n", "run.sh": FileSpec("#!/bin/sh\n", "100755")})
        github.add_issue(7, "Title", "Body", labels=("ready-for-dev",))
        checkout = github.clone(tmp_path / "checkout")      # `origin` is the bare repository's path
        github.push_commit("feature/issue-7-x", {"NOTES.md": "a person's commit\n", "old.txt": None})
        client = github.client()                            # a GitHubClient on github.url with the token
    Read back: `branch_head(branch)`, `branch_files(branch)` and `tree_files(treeish)` (path -> (mode, bytes)),
    `comments(number)`, `issues`, `pulls`, `requests` ((method, path) log), `failures` (git errors answered 500).
    Knobs: `refuse_drafts`, `refuse_pulls`, `lose_answers`, `max_tree_entries`, `permissions` (login -> role),
    `token`, `bot_login`.
    Pull requests are issues too (labels, comments). After the pull request: `add_check_run(sha, name,
    conclusion, ...)`, `add_review(number, login, state, body)`, `add_review_comment(number, login, path, line,
    body)`, `close_pull(number, merged=...)`; read back `requested_reviewers`, `dispatches`, `review_comments(number)`.
File contents are `str`, `bytes` or `FileSpec(content, mode)` (mode "100755" executable, "120000" a symlink
whose content is its target); None deletes a path in `push_commit`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from osorganicai.github import GitHubClient, TokenAuth

ZERO_SHA = "0" * 40
IDENTITY = {"name": "Fake GitHub", "email": "noreply@github.test"}
EPOCH = 1_798_761_600  # 2027-01-01T00:00:00Z: commit dates count up from here, one second a commit


@dataclass(frozen=True)
class FileSpec:
    content: str | bytes
    mode: str = "100644"

    def data(self) -> bytes:
        return self.content.encode() if isinstance(self.content, str) else self.content


FileInput = str | bytes | FileSpec | None  # None deletes the path (in push_commit)


def as_spec(value: str | bytes | FileSpec) -> FileSpec:
    return value if isinstance(value, FileSpec) else FileSpec(value)


class GitCommandError(RuntimeError):
    pass


def run_git(
    *args: str,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    data: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    if git_dir is not None:
        full_env["GIT_DIR"] = str(git_dir)
    result = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, env=full_env, check=False)
    if result.returncode != 0:
        raise GitCommandError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


class HttpError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        if errors:
            self.body["errors"] = errors


class BareRepository:
    """A bare git repository driven with plumbing commands only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._commits = 0
        run_git("init", "-q", "--bare", str(path))

    def git(self, *args: str, data: bytes | None = None, env: Mapping[str, str] | None = None) -> bytes:
        return run_git(*args, git_dir=self.path, data=data, env=env)

    def write_blob(self, content: bytes) -> str:
        return self.git("hash-object", "-w", "--stdin", data=content).decode().strip()

    def object_type(self, sha: str) -> str | None:
        try:
            return self.git("cat-file", "-t", sha).decode().strip()
        except GitCommandError:
            return None

    def read_blob(self, sha: str) -> bytes:
        return self.git("cat-file", "blob", sha)

    def commit_info(self, sha: str) -> dict[str, Any]:
        raw = self.git("cat-file", "commit", sha).decode()
        header, _, message = raw.partition("\n\n")
        tree = ""
        parents: list[str] = []
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
        return {"sha": sha, "tree": tree, "parents": parents, "message": message}

    def tree_entries(self, treeish: str, *, recursive: bool) -> list[dict[str, Any]]:
        args = ["ls-tree", "-z", "--long"] + (["-r", "-t"] if recursive else []) + [treeish]
        entries = []
        for record in self.git(*args).split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            mode, kind, sha, size = meta.decode().split()
            entry: dict[str, Any] = {"path": path.decode(), "mode": mode, "type": kind, "sha": sha}
            if kind == "blob":
                entry["size"] = int(size)
            entries.append(entry)
        return entries

    def build_tree(self, base_tree: str | None, changes: list[tuple[str, str, str | None]]) -> str:
        """`base_tree` with (path, mode, blob sha or None to delete) applied, through a temporary index."""
        with tempfile.TemporaryDirectory(prefix="fake-github-index-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            else:
                self.git("read-tree", "--empty", env=env)
            records = b"".join(
                (f"0 {ZERO_SHA}\t{path}" if sha is None else f"{mode} {sha}\t{path}").encode() + b"\0"
                for path, mode, sha in changes
            )
            if records:
                self.git("update-index", "-z", "--index-info", data=records, env=env)
            return self.git("write-tree", env=env).decode().strip()

    def commit(self, tree: str, parents: list[str], message: str) -> str:
        self._commits += 1
        date = f"{EPOCH + self._commits} +0000"
        env = {
            "GIT_AUTHOR_NAME": IDENTITY["name"],
            "GIT_AUTHOR_EMAIL": IDENTITY["email"],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": IDENTITY["name"],
            "GIT_COMMITTER_EMAIL": IDENTITY["email"],
            "GIT_COMMITTER_DATE": date,
        }
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, data=message.encode(), env=env).decode().strip()

    def ref(self, branch: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}").decode().strip()
        except GitCommandError:
            return None

    def branches(self, prefix: str = "") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads/").decode()
        pairs = (line.split(" ", 1) for line in out.splitlines() if line)
        return {name: sha for name, sha in pairs if name.startswith(prefix)}

    def set_ref(self, branch: str, sha: str) -> None:
        self.git("update-ref", f"refs/heads/{branch}", sha)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", ancestor, descendant)
        except GitCommandError:
            return False
        return True

    def count(self, revisions: str) -> int:
        return int(self.git("rev-list", "--count", revisions).decode().strip())


@dataclass
class FakeGitHubGit:
    """The fake GitHub: a bare repository plus issues, comments and pull requests, served over HTTP."""

    root: Path
    repository: str = "octo-org/hello-world"
    token: str = "test-token"
    default_branch: str = "main"
    bot_login: str = "osorganic-bot[bot]"
    refuse_drafts: bool = False  # POST /pulls with draft true answers 422, like plans without draft PRs
    refuse_pulls: str | None = None  # POST /pulls answers 422 with this message (e.g. a protected base)
    lose_answers: int = 0  # the next N POST requests land, but their answer is lost (502), as behind a failing proxy
    max_tree_entries: int | None = None  # a recursive GET trees lists at most this many entries, truncated true
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin, maintain, write, triage or read
    pulls: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # git commands that failed while answering (answered 500)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    annotations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    job_logs: dict[int, str] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requested_reviewers: dict[int, list[str]] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    _review_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    _comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    _next_id: int = 5000
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.bare = BareRepository(self.root / "remote.git")
        self.bare.git("symbolic-ref", "HEAD", f"refs/heads/{self.default_branch}")

    # -- server lifecycle --------------------------------------------------------------------
    def __enter__(self) -> FakeGitHubGit:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> str:
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake GitHub is not started: use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(self, token: str | None = None, **kwargs: Any) -> GitHubClient:
        return GitHubClient(TokenAuth(token or self.token), base_url=self.url, sleep=lambda _s: None, **kwargs)

    # -- repository helpers for tests --------------------------------------------------------
    def create_repository(self, files: Mapping[str, str | bytes | FileSpec], message: str = "Initial commit") -> str:
        """The default branch's first commit, holding `files`; returns its sha."""
        return self.push_commit(self.default_branch, dict(files), message=message, parent=None)

    def push_commit(
        self, branch: str, files: Mapping[str, FileInput], *, message: str = "A person's change", parent: str | bool | None = True
    ) -> str:
        """A commit on `branch` changing `files` (None deletes), as a person pushing would.

        `parent=True` (default) builds on the branch head, or on the default branch when `branch` is new;
        a sha builds on that commit; None makes a root commit.
        """
        with self._lock:
            if parent is True:
                parent = self.bare.ref(branch) or self.bare.ref(self.default_branch)
            base_tree = self.bare.commit_info(parent)["tree"] if isinstance(parent, str) else None
            changes: list[tuple[str, str, str | None]] = []
            for path, value in sorted(files.items()):
                if value is None:
                    changes.append((path, "100644", None))
                else:
                    spec = as_spec(value)
                    changes.append((path, spec.mode, self.bare.write_blob(spec.data())))
            tree = self.bare.build_tree(base_tree, changes)
            sha = self.bare.commit(tree, [parent] if isinstance(parent, str) else [], message)
            self.bare.set_ref(branch, sha)
            return sha

    def clone(self, destination: Path, branch: str | None = None) -> Path:
        """A working checkout of the bare repository (remote `origin` is its file path)."""
        run_git("clone", "-q", str(self.bare.path), str(destination))
        for key, value in (("user.name", "Developer Run"), ("user.email", "dev@example.test"), ("core.autocrlf", "false")):
            run_git("config", key, value, cwd=destination)
        if branch is not None:
            run_git("checkout", "-q", branch, cwd=destination)
        return destination

    def branch_head(self, branch: str) -> str | None:
        return self.bare.ref(branch)

    def tree_files(self, treeish: str) -> dict[str, tuple[str, bytes]]:
        """path -> (mode, content) of every file of a commit or tree."""
        return {
            entry["path"]: (entry["mode"], self.bare.read_blob(entry["sha"]))
            for entry in self.bare.tree_entries(treeish, recursive=True)
            if entry["type"] == "blob"
        }

    def branch_files(self, branch: str) -> dict[str, tuple[str, bytes]]:
        head = self.bare.ref(branch)
        if head is None:
            raise KeyError(f"no branch {branch!r}")
        return self.tree_files(head)

    # -- issues, comments, pulls ---------------------------------------------------------------
    def add_issue(
        self, number: int, title: str, body: str = "", labels: tuple[str, ...] = (), author: str = "octocat"
    ) -> dict[str, Any]:
        with self._lock:
            issue = {
                "number": number,
                "title": title,
                "body": body,
                "state": "open",
                "labels": [{"name": name} for name in labels],
                "user": {"login": author, "type": "User"},
                "html_url": f"https://github.com/{self.repository}/issues/{number}",
            }
            self.issues[number] = issue
            self._comments.setdefault(number, [])
            return issue

    def add_comment(self, number: int, body: str, login: str = "octocat") -> dict[str, Any]:
        with self._lock:
            return self._new_comment(number, body, login, "User")

    def comments(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(comment) for comment in self._comments.get(number, [])]

    def _new_comment(self, number: int, body: str, login: str, kind: str) -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": body,
            "user": {"login": login, "type": kind},
            "html_url": f"https://github.com/{self.repository}/issues/{number}#issuecomment-{self._next_id}",
            "issue_url": f"https://api.github.com/repos/{self.repository}/issues/{number}",
        }
        self._comments.setdefault(number, []).append(comment)
        return comment

    # -- after the pull request: checks, reviews, merges ----------------------------------------
    def add_check_run(
        self,
        sha: str,
        name: str,
        conclusion: str | None,
        *,
        status: str = "completed",
        app: str = "github-actions",
        title: str = "",
        summary: str = "",
        annotations: tuple[dict[str, Any], ...] = (),
        log: str | None = None,
    ) -> dict[str, Any]:
        """A check run on `sha` (GitHub's check run shape); `log` is its Actions job's log."""
        with self._lock:
            self._next_id += 1
            run = {
                "id": self._next_id,
                "name": name,
                "head_sha": sha,
                "status": status,
                "conclusion": conclusion,
                "app": {"slug": app},
                "output": {"title": title, "summary": summary, "annotations_count": len(annotations)},
                "html_url": f"https://github.com/{self.repository}/runs/{self._next_id}",
            }
            self.check_runs.append(run)
            self.annotations[run["id"]] = [dict(note) for note in annotations]
            if log is not None:
                self.job_logs[run["id"]] = log
            return run

    def add_review(self, number: int, login: str, state: str, body: str = "") -> dict[str, Any]:
        """A submitted review; `state` as the REST API spells it (CHANGES_REQUESTED, COMMENTED, APPROVED)."""
        with self._lock:
            self._next_id += 1
            review = {"id": self._next_id, "user": {"login": login, "type": "User"}, "state": state, "body": body}
            self.reviews.setdefault(number, []).append(review)
            return review

    def add_review_comment(self, number: int, login: str, path: str, line: int, body: str) -> dict[str, Any]:
        with self._lock:
            return self._new_review_comment(number, login, body, path=path, line=line, reply_to=None)

    def review_comments(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(comment) for comment in self._review_comments.get(number, [])]

    def close_pull(self, number: int, *, merged: bool) -> dict[str, Any]:
        """Close (or merge) a pull request as a person would; a merge fast-forwards the base branch."""
        with self._lock:
            pull = self._pull(number)
            pull["state"] = "closed"
            pull["merged"] = merged
            self.issues[number]["state"] = "closed"
            if merged:
                self.bare.set_ref(pull["base"]["ref"], pull["head"]["sha"])
                pull["merge_commit_sha"] = pull["head"]["sha"]  # a fast-forward: the base is now the head
            return pull

    def _new_review_comment(
        self, number: int, login: str, body: str, *, path: str, line: int | None, reply_to: int | None
    ) -> dict[str, Any]:
        self._next_id += 1
        comment: dict[str, Any] = {
            "id": self._next_id,
            "path": path,
            "line": line,
            "body": body,
            "user": {"login": login, "type": "User"},
            "pull_request_url": f"https://api.github.com/repos/{self.repository}/pulls/{number}",
        }
        if reply_to is not None:
            comment["in_reply_to_id"] = reply_to
        self._review_comments.setdefault(number, []).append(comment)
        return comment

    # -- request handling ----------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: Mapping[str, str], body: Any) -> tuple[int, Any]:
        """(status, JSON-able body or raw bytes) for one request."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        with self._lock:
            self.requests.append((method, path))
            if method == "GET" and path.startswith("/_logs/"):  # a log download URL: no credentials, like GitHub's
                log = self.job_logs.get(int(path.rsplit("/", 1)[-1]))
                return (200, log.encode()) if log is not None else (404, {"message": "Not Found"})
            authorization = headers.get("authorization", "")
            if authorization not in (f"Bearer {self.token}", f"token {self.token}"):
                return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            if path == "/graphql" and method == "POST":
                return self._graphql(body)
            prefix = f"/repos/{self.repository}"
            if path != prefix and not path.startswith(prefix + "/"):
                return 404, {"message": "Not Found"}
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            try:
                status, answer = self._route(method, path[len(prefix) :], query, headers, body)
                if method == "POST" and self.lose_answers > 0 and status < 300:
                    self.lose_answers -= 1
                    return 502, {"message": "Server Error"}
                return status, answer
            except HttpError as error:
                return error.status, error.body
            except GitCommandError as error:  # a bug in the fake or the test: visible, never a hung connection
                self.failures.append(str(error))
                return 500, {"message": f"the fake GitHub's git failed: {error}"}

    def _route(self, method: str, rest: str, query: dict[str, str], headers: Mapping[str, str], body: Any) -> tuple[int, Any]:
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"", self._get_repository),
            ("GET", r"/issues/(\d+)", self._get_issue),
            ("GET", r"/issues/(\d+)/comments", self._list_comments),
            ("POST", r"/issues/(\d+)/comments", self._create_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._update_comment),
            ("POST", r"/issues/(\d+)/labels", self._add_labels),
            ("DELETE", r"/issues/(\d+)/labels/(.+)", self._remove_label),
            ("GET", r"/collaborators/([^/]+)/permission", self._permission),
            ("GET", r"/git/ref/heads/(.+)", self._get_ref),
            ("GET", r"/git/matching-refs/heads/(.*)", self._matching_refs),
            ("POST", r"/git/refs", self._create_ref),
            ("PATCH", r"/git/refs/heads/(.+)", self._update_ref),
            ("GET", r"/git/commits/([0-9a-f]{4,40})", self._get_commit),
            ("POST", r"/git/commits", self._create_commit),
            ("GET", r"/git/trees/([^/]+)", self._get_tree),
            ("POST", r"/git/trees", self._create_tree),
            ("GET", r"/git/blobs/([0-9a-f]{40})", self._get_blob),
            ("POST", r"/git/blobs", self._create_blob),
            ("GET", r"/compare/([^.]+)\.\.\.(.+)", self._compare),
            ("GET", r"/pulls", self._list_pulls),
            ("POST", r"/pulls", self._create_pull),
            ("PATCH", r"/pulls/(\d+)", self._update_pull),
            ("GET", r"/contents/(.+)", self._get_contents),
            ("PATCH", r"/issues/(\d+)", self._update_issue),
            ("GET", r"/pulls/(\d+)", self._get_pull),
            ("POST", r"/pulls/(\d+)/requested_reviewers", self._request_reviewers),
            ("GET", r"/pulls/(\d+)/reviews", self._list_reviews),
            ("GET", r"/pulls/(\d+)/comments", self._list_review_comments),
            ("POST", r"/pulls/(\d+)/comments/(\d+)/replies", self._reply_review_comment),
            ("GET", r"/commits/([^/]+)/check-runs", self._list_check_runs),
            ("GET", r"/check-runs/(\d+)/annotations", self._list_annotations),
            ("GET", r"/actions/jobs/(\d+)/logs", self._job_logs),
            ("DELETE", r"/git/refs/heads/(.+)", self._delete_ref),
            ("POST", r"/dispatches", self._dispatch),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, rest)
            if match and route_method == method:
                return handler(*match.groups(), query=query, headers=headers, body=body)
        raise HttpError(404, f"Not Found (the fake GitHub has no route for {method} {rest or '/'})")

    # repository and issues
    def _get_repository(self, **_: Any) -> tuple[int, Any]:
        owner, name = self.repository.split("/", 1)
        return 200, {
            "name": name,
            "full_name": self.repository,
            "owner": {"login": owner},
            "default_branch": self.default_branch,
            "private": True,
        }

    def _issue(self, number: str) -> dict[str, Any]:
        issue = self.issues.get(int(number))
        if issue is None:
            raise HttpError(404, "Not Found")
        return issue

    def _get_issue(self, number: str, **_: Any) -> tuple[int, Any]:
        return 200, self._issue(number)

    def _list_comments(self, number: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        self._issue(number)
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        comments = self._comments.get(int(number), [])
        return 200, comments[(page - 1) * per_page : page * per_page]

    def _create_comment(self, number: str, body: Any, **_: Any) -> tuple[int, Any]:
        self._issue(number)
        text = _require(body, "body", str)
        return 201, self._new_comment(int(number), text, self.bot_login, "Bot")

    def _update_comment(self, comment_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        text = _require(body, "body", str)
        for comments in self._comments.values():
            for comment in comments:
                if comment["id"] == int(comment_id):
                    comment["body"] = text
                    return 200, comment
        raise HttpError(404, "Not Found")

    def _add_labels(self, number: str, body: Any, **_: Any) -> tuple[int, Any]:
        issue = self._issue(number)
        names = [label["name"] for label in issue["labels"]]
        issue["labels"] += [{"name": name} for name in _require(body, "labels", list) if name not in names]
        return 200, issue["labels"]

    def _remove_label(self, number: str, name: str, **_: Any) -> tuple[int, Any]:
        issue = self._issue(number)
        kept = [label for label in issue["labels"] if label["name"] != name]
        if len(kept) == len(issue["labels"]):
            raise HttpError(404, "Label does not exist")
        issue["labels"] = kept
        return 200, kept

    def _permission(self, login: str, **_: Any) -> tuple[int, Any]:
        permission = self.permissions.get(login)
        if permission is None:
            raise HttpError(404, f"{login} is not a user")
        return 200, {"permission": permission, "role_name": permission, "user": {"login": login}}

    # refs
    def _ref_json(self, branch: str, sha: str) -> dict[str, Any]:
        return {"ref": f"refs/heads/{branch}", "object": {"sha": sha, "type": "commit"}}

    def _get_ref(self, branch: str, **_: Any) -> tuple[int, Any]:
        sha = self.bare.ref(branch)
        if sha is None:
            raise HttpError(404, "Not Found")
        return 200, self._ref_json(branch, sha)

    def _matching_refs(self, prefix: str, **_: Any) -> tuple[int, Any]:
        return 200, [self._ref_json(name, sha) for name, sha in sorted(self.bare.branches(prefix).items())]

    def _create_ref(self, body: Any, **_: Any) -> tuple[int, Any]:
        ref = _require(body, "ref", str)
        sha = _require(body, "sha", str)
        if not ref.startswith("refs/heads/") or ref.count("/") < 2:
            raise HttpError(422, "Reference name must start with 'refs/' and have at least two slashes.")
        branch = ref.removeprefix("refs/heads/")
        if self.bare.ref(branch) is not None:
            raise HttpError(422, "Reference already exists")
        if self.bare.object_type(sha) != "commit":
            raise HttpError(422, "Object does not exist")
        self.bare.set_ref(branch, sha)
        return 201, self._ref_json(branch, sha)

    def _update_ref(self, branch: str, body: Any, **_: Any) -> tuple[int, Any]:
        sha = _require(body, "sha", str)
        force = bool(body.get("force", False))
        current = self.bare.ref(branch)
        if current is None:
            raise HttpError(422, "Reference does not exist")
        if self.bare.object_type(sha) != "commit":
            raise HttpError(422, "Object does not exist")
        if not force and not self.bare.is_ancestor(current, sha):
            raise HttpError(422, "Update is not a fast forward")
        self.bare.set_ref(branch, sha)
        return 200, self._ref_json(branch, sha)

    # commits, trees, blobs
    def _commit_json(self, sha: str) -> dict[str, Any]:
        info = self.bare.commit_info(sha)
        person = {**IDENTITY, "date": "2027-01-01T00:00:00Z"}
        return {
            "sha": sha,
            "tree": {"sha": info["tree"]},
            "parents": [{"sha": parent} for parent in info["parents"]],
            "message": info["message"].rstrip("\n"),
            "author": person,
            "committer": person,
            "html_url": f"https://github.com/{self.repository}/commit/{sha}",
        }

    def _get_commit(self, sha: str, **_: Any) -> tuple[int, Any]:
        if self.bare.object_type(sha) != "commit":
            raise HttpError(404, "Not Found")
        return 200, self._commit_json(sha)

    def _create_commit(self, body: Any, **_: Any) -> tuple[int, Any]:
        message = _require(body, "message", str)
        tree = _require(body, "tree", str)
        parents = body.get("parents") or []
        if self.bare.object_type(tree) != "tree":
            raise HttpError(422, "Tree SHA does not exist")
        if any(not isinstance(parent, str) or self.bare.object_type(parent) != "commit" for parent in parents):
            raise HttpError(422, "Parent SHA does not exist or is not a commit object")
        sha = self.bare.commit(tree, list(parents), message)
        return 201, self._commit_json(sha)

    def _get_tree(self, treeish: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        kind = self.bare.object_type(treeish)
        if kind not in ("tree", "commit"):
            raise HttpError(404, "Not Found")
        recursive = bool(query.get("recursive"))
        entries = self.bare.tree_entries(treeish, recursive=recursive)
        truncated = recursive and self.max_tree_entries is not None and len(entries) > self.max_tree_entries
        if truncated:
            entries = entries[: self.max_tree_entries]
        sha = self.bare.git("rev-parse", f"{treeish}^{{tree}}").decode().strip()
        return 200, {"sha": sha, "tree": entries, "truncated": truncated}

    def _create_tree(self, body: Any, **_: Any) -> tuple[int, Any]:
        entries = _require(body, "tree", list)
        base_tree = body.get("base_tree")
        if base_tree is not None and self.bare.object_type(base_tree) != "tree":
            raise HttpError(422, "base_tree is not a valid tree oid")
        changes: list[tuple[str, str, str | None]] = []
        for entry in entries:
            path = str(entry.get("path") or "")
            parts = path.split("/")
            if not path or path.startswith("/") or any(part in ("", ".", "..", ".git") for part in parts):
                raise HttpError(422, f"tree.path contains a malformed path component: {path!r}")
            mode = entry.get("mode")
            if mode not in ("100644", "100755", "120000"):
                raise HttpError(422, f"tree.mode {mode!r} is not supported by the fake")
            if "content" in entry:
                changes.append((path, mode, self.bare.write_blob(str(entry["content"]).encode())))
            elif entry.get("sha") is None:
                if base_tree is None or self.bare.object_type(f"{base_tree}:{path}") is None:
                    raise HttpError(422, "GitRPC::BadObjectState")  # GitHub: deleting a path that does not exist
                changes.append((path, mode, None))
            else:
                if self.bare.object_type(entry["sha"]) != "blob":
                    raise HttpError(422, f"tree.sha {entry['sha']} is not a valid blob")
                changes.append((path, mode, entry["sha"]))
        try:
            sha = self.bare.build_tree(base_tree, changes)
        except GitCommandError as error:
            raise HttpError(422, f"GitRPC::BadObjectState: {error}") from error
        return 201, {"sha": sha, "tree": self.bare.tree_entries(sha, recursive=False), "truncated": False}

    def _get_blob(self, sha: str, **_: Any) -> tuple[int, Any]:
        if self.bare.object_type(sha) != "blob":
            raise HttpError(404, "Not Found")
        content = self.bare.read_blob(sha)
        return 200, {
            "sha": sha,
            "size": len(content),
            "encoding": "base64",
            "content": base64.encodebytes(content).decode("ascii"),
        }

    def _create_blob(self, body: Any, **_: Any) -> tuple[int, Any]:
        content = _require(body, "content", str)
        encoding = body.get("encoding", "utf-8")
        if encoding == "base64":
            data = base64.b64decode(content)
        elif encoding == "utf-8":
            data = content.encode()
        else:
            raise HttpError(422, f"encoding {encoding!r} is not utf-8 or base64")
        sha = self.bare.write_blob(data)
        return 201, {"sha": sha, "url": f"https://api.github.com/repos/{self.repository}/git/blobs/{sha}"}

    def _compare(self, base: str, head: str, **_: Any) -> tuple[int, Any]:
        shas = []
        for name in (base, head):
            sha = self.bare.ref(name) or (name if self.bare.object_type(name) == "commit" else None)
            if sha is None:
                raise HttpError(404, "Not Found")
            shas.append(sha)
        ahead = self.bare.count(f"{shas[0]}..{shas[1]}")
        behind = self.bare.count(f"{shas[1]}..{shas[0]}")
        status = "identical" if ahead == behind == 0 else "ahead" if behind == 0 else "behind" if ahead == 0 else "diverged"
        return 200, {"status": status, "ahead_by": ahead, "behind_by": behind, "total_commits": ahead}

    # pull requests
    def _list_pulls(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        state = query.get("state", "open")
        head = query.get("head")
        pulls = [pull for pull in self.pulls if state == "all" or pull["state"] == state]
        if head:
            pulls = [pull for pull in pulls if pull["head"]["label"] == head]
        return 200, pulls

    def _create_pull(self, body: Any, **_: Any) -> tuple[int, Any]:
        title = _require(body, "title", str)
        head = _require(body, "head", str)
        base = _require(body, "base", str)
        draft = bool(body.get("draft", False))
        owner = self.repository.split("/", 1)[0]
        branch = head.split(":", 1)[-1]
        if self.refuse_pulls:
            raise HttpError(
                422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": self.refuse_pulls}]
            )
        if draft and self.refuse_drafts:
            raise HttpError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": "Draft pull requests are not supported in this repository.",
                    }
                ],
            )
        if self.bare.ref(branch) is None:
            raise HttpError(422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if any(pull["head"]["ref"] == branch and pull["state"] == "open" for pull in self.pulls):
            raise HttpError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {owner}:{branch}.",
                    }
                ],
            )
        self._next_id += 1
        number = max([0, *self.issues, *(pull["number"] for pull in self.pulls)]) + 1
        pull = {
            "id": self._next_id,
            "node_id": f"PR_kwFake{number}",
            "number": number,
            "state": "open",
            "merged": False,
            "title": title,
            "body": body.get("body") or "",
            "draft": draft,
            "html_url": f"https://github.com/{self.repository}/pull/{number}",
            "head": {"ref": branch, "label": f"{owner}:{branch}", "sha": self.bare.ref(branch)},
            "base": {"ref": base, "label": f"{owner}:{base}"},
            "user": {"login": self.bot_login, "type": "Bot"},
        }
        self.pulls.append(pull)
        self.issues[number] = {  # every pull request is an issue too: labels and comments
            "number": number,
            "title": title,
            "body": pull["body"],
            "state": "open",
            "labels": [],
            "user": dict(pull["user"]),
            "pull_request": {"url": f"https://api.github.com/repos/{self.repository}/pulls/{number}"},
        }
        self._comments.setdefault(number, [])
        return 201, pull

    def _update_pull(self, number: str, body: Any, **_: Any) -> tuple[int, Any]:
        for pull in self.pulls:
            if pull["number"] == int(number):
                for key in ("title", "body", "state"):
                    if key in (body or {}):
                        pull[key] = body[key]
                return 200, pull
        raise HttpError(404, "Not Found")

    def _pull(self, number: int | str) -> dict[str, Any]:
        for pull in self.pulls:
            if pull["number"] == int(number):
                pull["head"]["sha"] = self.bare.ref(pull["head"]["ref"]) or pull["head"]["sha"]
                return pull
        raise HttpError(404, "Not Found")

    def _get_pull(self, number: str, **_: Any) -> tuple[int, Any]:
        return 200, self._pull(number)

    def _update_issue(self, number: str, body: Any, **_: Any) -> tuple[int, Any]:
        issue = self._issue(number)
        for key in ("state", "state_reason", "title", "body"):
            if key in (body or {}):
                issue[key] = body[key]
        return 200, issue

    def _request_reviewers(self, number: str, body: Any, **_: Any) -> tuple[int, Any]:
        pull = self._pull(number)
        reviewers = _require(body, "reviewers", list)
        if pull["user"]["login"] in reviewers:
            raise HttpError(422, "Review cannot be requested from pull request author.")
        requested = self.requested_reviewers.setdefault(int(number), [])
        requested += [login for login in reviewers if login not in requested]
        return 201, pull

    def _list_reviews(self, number: str, **_: Any) -> tuple[int, Any]:
        self._pull(number)
        return 200, self.reviews.get(int(number), [])

    def _list_review_comments(self, number: str, **_: Any) -> tuple[int, Any]:
        self._pull(number)
        return 200, self._review_comments.get(int(number), [])

    def _reply_review_comment(self, number: str, comment_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        self._pull(number)
        text = _require(body, "body", str)
        top = next((c for c in self._review_comments.get(int(number), []) if c["id"] == int(comment_id)), None)
        if top is None or "in_reply_to_id" in top:  # GitHub: replies to replies are not supported
            raise HttpError(404, "Not Found")
        comment = self._new_review_comment(
            int(number), self.bot_login, text, path=top["path"], line=top["line"], reply_to=top["id"]
        )
        return 201, comment

    def _list_check_runs(self, ref: str, **_: Any) -> tuple[int, Any]:
        sha = self.bare.ref(ref) or ref
        runs = [run for run in self.check_runs if run["head_sha"] == sha]
        return 200, {"total_count": len(runs), "check_runs": runs}

    def _list_annotations(self, run_id: str, **_: Any) -> tuple[int, Any]:
        if int(run_id) not in self.annotations:
            raise HttpError(404, "Not Found")
        return 200, self.annotations[int(run_id)]

    def _job_logs(self, job_id: str, **_: Any) -> tuple[int, Any]:
        if int(job_id) not in self.job_logs:
            raise HttpError(404, "Not Found")
        return 302, {"location": f"{self.url}/_logs/{job_id}"}

    def _delete_ref(self, branch: str, **_: Any) -> tuple[int, Any]:
        if self.bare.ref(branch) is None:
            raise HttpError(422, "Reference does not exist")
        self.bare.git("update-ref", "-d", f"refs/heads/{branch}")
        return 204, b""

    def _dispatch(self, body: Any, **_: Any) -> tuple[int, Any]:
        self.dispatches.append({"event_type": _require(body, "event_type", str), "client_payload": body.get("client_payload")})
        return 204, b""

    def _graphql(self, body: Any) -> tuple[int, Any]:
        query = str((body or {}).get("query") or "")
        variables = (body or {}).get("variables") or {}
        if "markPullRequestReadyForReview" not in query:
            return _graphql_error("the fake GitHub only knows markPullRequestReadyForReview", "INTERNAL")
        pull = next((pull for pull in self.pulls if pull["node_id"] == variables.get("id")), None)
        if pull is None:
            return _graphql_error(f"Could not resolve to a node with the global id of '{variables.get('id')}'")
        pull["draft"] = False
        return 200, {"data": {"markPullRequestReadyForReview": {"pullRequest": {"number": pull["number"], "isDraft": False}}}}

    def _get_contents(self, path: str, query: dict[str, str], headers: Mapping[str, str], **_: Any) -> tuple[int, Any]:
        ref = query.get("ref") or self.default_branch
        commit = self.bare.ref(ref) or (ref if self.bare.object_type(ref) == "commit" else None)
        files = self.tree_files(commit) if commit else {}
        if path not in files:
            raise HttpError(404, "Not Found")
        mode, content = files[path]
        if "raw" in headers.get("accept", ""):
            return 200, content
        return 200, {
            "type": "symlink" if mode == "120000" else "file",
            "path": path,
            "size": len(content),
            "encoding": "base64",
            "content": base64.encodebytes(content).decode("ascii"),
        }


def _graphql_error(message: str, kind: str = "NOT_FOUND") -> tuple[int, Any]:
    return 200, {"data": None, "errors": [{"type": kind, "message": message, "path": ["markPullRequestReadyForReview"]}]}


def _require(body: Any, key: str, kind: type) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise HttpError(
            422,
            "Invalid request.",
            [
                {
                    "resource": "Request",
                    "field": key,
                    "code": "missing_field",
                    "message": f"{key} wasn't supplied or has the wrong type.",
                }
            ],
        )
    return body[key]


def _handler_for(fake: FakeGitHubGit) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                status, data = 400, {"message": "Problems parsing JSON"}
            else:
                status, data = fake.handle(self.command, self.path, headers, body)
            location = data.pop("location", None) if status == 302 and isinstance(data, dict) else None
            payload = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(data, bytes) else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
