"""`publish`: the only step that writes to GitHub for a Developer run. It reads a proposal folder,
validates it, applies the patch to the issue's branch through the Git data API (fast-forward only,
never over a person's commit), opens or updates the pull request, keeps one status comment on the
issue, and records what happened: a `code_generations` row and a `publish_<outcome>` action whose
payload also keeps the proposal's title and summary, the patch's diff stat and the end of the run's
transcript (`summary.publication_summary`), which the console shows.
"""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..db import Store, StoreError
from ..github import GitHubClient, GitHubError, PullRequest
from ..labels import LABEL_AGENT_DRAFT, same_login, with_marker
from ..proposal import Proposal, ProposalError
from ..sanitize import clean_untrusted
from . import messages
from .apply import FileChange, apply_patch
from .patch_rules import (
    PublishConflict,
    PublishPolicy,
    PublishRefused,
    check_paths,
    read_patch,
    read_proposal_folder,
    touched_paths,
)
from .summary import publication_summary

logger = logging.getLogger(__name__)

EXIT_BAD_PROPOSAL = 2
EXIT_CODES = {"published": 0, "commented": 0, "refused": 1, "conflict": 1}
BRANCH_NAME = re.compile(r"^[A-Za-z0-9._/-]+$")
DRAFT_NOTE = (
    "Opened as a ready pull request because this repository's plan does not support draft pull requests: "
    "treat it as a draft until a person has reviewed it."
)


@dataclass(frozen=True)
class PublishResult:
    outcome: str  # "published" | "commented" | "refused" | "conflict"
    detail: str
    branch: str | None = None
    commit_sha: str | None = None
    pull_request_number: int | None = None
    pull_request_url: str | None = None


def exit_code(result: PublishResult) -> int:
    """0 when published or commented, 1 when refused or in conflict (2 is for a bad folder: ProposalError)."""
    return EXIT_CODES.get(result.outcome, 1)


def publish(
    folder: Path,
    *,
    repository: str,
    github: GitHubClient,
    store: Store | None,
    policy: PublishPolicy,
    bot_login: str | None,
) -> PublishResult:
    """Publish the proposal in `folder`. Raises ProposalError when the folder cannot be read (exit 2)."""
    proposal_folder = read_proposal_folder(folder, repository)
    publication = Publication(proposal_folder.proposal, repository, github, store, bot_login, folder=folder)
    try:
        try:
            patch = read_patch(proposal_folder, policy)
            paths = touched_paths(patch) if patch else []
            check_paths(paths, policy)
            return publication.publish(patch, paths)
        except PublishRefused as refusal:
            return publication.refuse(str(refusal))
        except PublishConflict as conflict:
            return publication.conflict(conflict)
    except Exception as error:  # GitHub or git failed: recorded, then raised for the command to report
        publication.record_failure(f"{error.__class__.__name__}: {error}")
        raise


class Publication:
    """One proposal on its way to GitHub: each step is a method, the outcome is recorded once."""

    def __init__(
        self,
        proposal: Proposal,
        repository: str,
        github: GitHubClient,
        store: Store | None,
        bot_login: str | None,
        *,
        folder: Path | None = None,
    ) -> None:
        self.proposal = proposal
        self.folder = folder  # the proposal folder: its patch and transcript are summarised in the record
        self.repository = repository
        self.github = github
        self.store = store
        self.bot_login = bot_login
        self.issue = proposal.issue
        self.job_id = _job_id(proposal)
        self.branch: str | None = None  # known once the issue's branch is found

    # -- the steps --------------------------------------------------------------------------
    def publish(self, patch: bytes, paths: list[str]) -> PublishResult:
        if not patch:
            return self.comment_only("the run proposes no change, so no pull request was opened.")
        branch, head, branch_exists = self.find_branch()
        with tempfile.TemporaryDirectory(prefix="osorganic-publish-") as workspace:
            changes = apply_patch(
                self.github, self.repository, Path(workspace), patch, paths, head=head, base_commit=self.proposal.base_commit
            )
        if changes:
            commit_sha = self.write_commit(branch, head, branch_exists, changes)
        elif branch_exists:
            commit_sha = head  # an earlier publish of this proposal pushed it: finish its pull request and comment
        else:
            return self.comment_only(f"the patch changes nothing on `{branch}`, so nothing was committed.")
        files = [change.path for change in changes] or paths
        pull = self.open_or_update_pull(branch, files, made_branch=bool(changes) and not branch_exists)
        headline = f"pushed {commit_sha[:12]} to `{branch}`; pull request #{pull.number}: {pull.url}"
        self.upsert_status_comment(messages.status_comment(self.proposal, headline))
        result = PublishResult("published", headline, branch, commit_sha, pull.number, pull.url)
        return self.record(result, files)

    def find_branch(self) -> tuple[str, str, bool]:
        """(branch, its head, whether it exists): the issue's `feature/issue-N-*` branch, else the proposal's."""
        prefix = f"feature/issue-{self.issue}-"
        wanted = self.proposal.branch
        if not wanted.startswith(prefix) or not BRANCH_NAME.match(wanted) or ".." in wanted or wanted.endswith((".lock", "/")):
            raise PublishRefused(f"the proposal's branch `{wanted}` is not a `{prefix}...` branch name")
        branches = self.github.matching_branches(self.repository, prefix)
        if not branches:
            self.branch = wanted
            return wanted, self.proposal.base_commit, False
        branch = wanted if wanted in branches else sorted(branches)[0]
        self.branch = branch
        head = branches[branch]
        if head != self.proposal.base_commit:
            status = self.github.compare_status(self.repository, self.proposal.base_commit, head)
            if status not in ("ahead", "identical"):
                raise PublishConflict(
                    f"the branch `{branch}` is at {head[:12]}, which does not build on the run's base commit "
                    f"{self.proposal.base_commit[:12]} (it was rebased or force-pushed meanwhile)"
                )
        return branch, head, True

    def write_commit(self, branch: str, head: str, branch_exists: bool, changes: list[FileChange]) -> str:
        """Blobs, a tree on the head's tree, a commit on the head, then the ref (created or fast-forwarded)."""
        entries: list[dict[str, Any]] = []
        for change in changes:
            if change.new is None or change.content is None:
                mode = change.old.mode if change.old else "100644"
                entries.append({"path": change.path, "mode": mode, "type": "blob", "sha": None})
                continue
            sha = self.github.create_blob(self.repository, change.content)
            if sha != change.new.sha:
                raise RuntimeError(f"GitHub stored `{change.path}` as blob {sha}, expected {change.new.sha}")
            entries.append({"path": change.path, "mode": change.new.mode, "type": "blob", "sha": sha})
        tree = self.github.create_tree(self.repository, self.github.commit_tree_sha(self.repository, head), entries)
        commit = self.github.create_commit(
            self.repository, message=messages.commit_message(self.proposal), tree=tree, parents=[head]
        )
        try:
            if branch_exists:
                self.github.update_branch(self.repository, branch, commit)
            else:
                self.github.create_branch(self.repository, branch, commit)
        except GitHubError as error:
            if error.status != 422:
                raise
            raise PublishConflict(
                f"the branch `{branch}` moved while publishing (GitHub: {error.message}); nothing was overwritten"
            ) from error
        return commit

    def open_or_update_pull(self, branch: str, files: list[str], *, made_branch: bool = False) -> PullRequest:
        """The branch's open pull request, updated, or a new draft one. A plan without drafts gets a
        normal pull request labelled `agent-draft`; a branch this run made is deleted when no pull
        request could be opened for it."""
        title = messages.pull_title(self.proposal)
        existing = self.github.find_open_pull(self.repository, branch)
        if existing is not None and self.follow_up_kind() is not None:
            return self.comment_follow_up(existing)
        if existing is not None:
            body = messages.pull_body(self.proposal, files)
            return self.github.update_pull(self.repository, existing.number, title=title, body=body)
        base = self.github.get_repository(self.repository).get("default_branch") or self.proposal.default_branch
        try:
            try:
                return self.github.create_pull(
                    self.repository, head=branch, base=base, title=title, body=messages.pull_body(self.proposal, files)
                )
            except GitHubError as error:
                if error.status != 422 or "draft" not in error.message.lower():
                    raise
            body = messages.pull_body(self.proposal, files, draft_note=DRAFT_NOTE)
            pull = self.github.create_pull(self.repository, head=branch, base=base, title=title, body=body, draft=False)
        except GitHubError:
            if made_branch:
                self.delete_orphan_branch(branch)
            raise
        self.github.add_labels(self.repository, pull.number, [LABEL_AGENT_DRAFT])
        return pull

    def follow_up_kind(self) -> str | None:
        """`fix` or `revise` when this proposal comes from such a job (its pull request keeps its description)."""
        if self.store is None or self.job_id is None:
            return None
        job = self.store.get_job(self.job_id)
        return job.kind if job is not None and job.kind in ("fix", "revise") else None

    def comment_follow_up(self, pull: PullRequest) -> PullRequest:
        """A fix or revise run says on the pull request what it changed; the description stays the original one."""
        summary = clean_untrusted(self.proposal.summary, 5_000) or "(no summary)"
        body = f"**Developer agent** ({self.follow_up_kind()} run): {summary}\n\n{messages.status_line(self.proposal)}"
        self.github.create_comment(self.repository, pull.number, with_marker(body))
        return pull

    def delete_orphan_branch(self, branch: str) -> None:
        try:
            self.github.delete_branch(self.repository, branch)
        except GitHubError as error:  # the pull request's error is the one to report
            logger.warning("publishing #%s: the branch %s could not be deleted: %s", self.issue, branch, error)

    def upsert_status_comment(self, body: str) -> int:
        """Edit this issue's status comment (found by its marker, written by the bot) or create it."""
        marker = messages.status_marker(self.issue)
        for comment in self.github.issue_comments(self.repository, self.issue):
            if marker in comment.body and (self.bot_login is None or same_login(comment.author_login, self.bot_login)):
                self.github.update_comment(self.repository, comment.id, body)
                return comment.id
        return int(self.github.create_comment(self.repository, self.issue, body)["id"])

    # -- outcomes -----------------------------------------------------------------------------
    def comment_only(self, reason: str) -> PublishResult:
        self.upsert_status_comment(messages.status_comment(self.proposal, reason))
        return self.record(PublishResult("commented", reason), [])

    def refuse(self, reason: str) -> PublishResult:
        details = f"Nothing was published: {reason}."
        self.upsert_status_comment(messages.status_comment(self.proposal, "the proposed change was refused.", details))
        return self.record(PublishResult("refused", reason, branch=self.branch), [])

    def conflict(self, conflict: PublishConflict) -> PublishResult:
        reason = str(conflict)
        details = messages.conflict_details(reason, conflict.paths, conflict.git_output)
        headline = f"the change conflicts with `{self.branch}`." if self.branch else "the change conflicts with the branch."
        self.upsert_status_comment(messages.status_comment(self.proposal, headline, details))
        return self.record(PublishResult("conflict", reason, branch=self.branch), list(conflict.paths))

    # -- recording ------------------------------------------------------------------------------
    def record(self, result: PublishResult, files: list[str]) -> PublishResult:
        if self.store is None:
            return result
        try:
            self._record(result.outcome, result.detail, files, result)
        except StoreError as error:
            logger.warning("publishing #%s: %s (the outcome was %s)", self.issue, error, result.outcome)
        return result

    def record_failure(self, error: str) -> None:
        if self.store is None:
            return
        try:
            self._record("failed", error, [], None)
        except StoreError as store_error:
            logger.warning("publishing #%s failed (%s) and could not be recorded: %s", self.issue, error, store_error)

    def _record(self, outcome: str, detail: str, files: list[str], result: PublishResult | None) -> None:
        if self.store is None:
            return
        proposal = self.proposal
        job_id = self.job_id if self.job_id and self.store.get_job(self.job_id) else None
        usage = proposal.usage
        self.store.record_code_generation(
            repository=self.repository,
            issue_number=self.issue,
            status=outcome,
            job_id=job_id,
            branch=result.branch if result else None,
            commit_sha=result.commit_sha if result else None,
            pull_request_number=result.pull_request_number if result else None,
            pull_request_url=result.pull_request_url if result else None,
            files=files,
            rejection_reasons=[detail[:1000]] if outcome in ("refused", "conflict", "failed") else [],
            provider=usage.provider,
            model=usage.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            proposal_status=proposal.status,
            base_commit=proposal.base_commit,
            checks=[check.model_dump() for check in proposal.checks],
            check_rounds=proposal.check_rounds,
            steps=usage.steps,
            minutes=usage.minutes,
            budget_exhausted=proposal.budget_exhausted,
            budget_remaining=proposal.remaining or None,
            detail=detail,
        )
        self.store.log_action(
            agent="developer",
            action_type=f"publish_{outcome}",
            payload={
                "detail": detail[:2000],
                "branch": result.branch if result else None,
                "commit": result.commit_sha if result else None,
                "pull_request": result.pull_request_number if result else None,
                "files": files[:200],
                "proposal_status": proposal.status,
                **publication_summary(proposal, self.folder),
            },
            repository=self.repository,
            issue_number=self.issue,
            job_id=job_id,
        )
        if job_id is not None and proposal.budget_exhausted == "paused":
            self.store.pause_job(job_id, f"paused: {detail}"[:2000])  # queued again when the agents resume
        elif job_id is not None:
            succeeded = outcome in ("published", "commented")
            self.store.finish_job(job_id, succeeded=succeeded, error=None if succeeded else detail)


def _job_id(proposal: Proposal) -> uuid.UUID | None:
    if proposal.job_id is None:
        return None
    try:
        return uuid.UUID(proposal.job_id)
    except ValueError as error:
        raise ProposalError(f"`proposal.json`: job_id {proposal.job_id!r} is not a UUID") from error
