"""What a proposal folder must be before anything reaches GitHub: the folder read, the patch's size
and digest matched against `proposal.json`, and every path the patch touches checked against the rules.

The paths come from `git apply --numstat -z` run forwards and in reverse (git's own patch parser:
forwards names the new paths, in reverse the old ones, so a rename's source is checked too).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..proposal import PATCH_FILE, Proposal, ProposalError, read_proposal

ALLOW_WORKFLOWS_HINT = "set `[publish] allow_workflow_changes = true` in config/agents.toml to allow it"
WORKFLOWS_PREFIX = ".github/workflows/"
GIT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PublishPolicy:
    """The `[publish]` table of config/agents.toml; `.git/` and paths outside the repository are always refused."""

    max_patch_bytes: int = 2_000_000
    max_files: int = 200
    allow_workflow_changes: bool = False
    protected_paths: tuple[str, ...] = (".osorganic.toml", ".github/actions")


class PublishRefused(Exception):
    """The proposal breaks a rule: nothing is published and the issue is told why."""


class PublishConflict(Exception):
    """The patch no longer fits the branch (it moved, or a person's commit overlaps): nothing is overwritten."""

    def __init__(self, reason: str, paths: tuple[str, ...] = (), git_output: str = "") -> None:
        super().__init__(reason)
        self.paths = paths
        self.git_output = git_output


@dataclass(frozen=True)
class ProposalFolder:
    proposal: Proposal
    patch_path: Path


def git_environment() -> dict[str, str]:
    """git without the machine's or the user's configuration, never prompting."""
    return {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


def run_git(arguments: list[str], cwd: Path, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run git (arguments are ours, never a shell string); the caller reads returncode and stderr."""
    return subprocess.run(  # noqa: S603 - fixed git argument lists, no shell
        ["git", *arguments],  # noqa: S607 - git from PATH, as the workflow installs it
        cwd=cwd,
        input=data,
        capture_output=True,
        env=git_environment(),
        timeout=GIT_TIMEOUT_SECONDS,
        check=False,
    )


def read_proposal_folder(folder: Path, repository: str) -> ProposalFolder:
    """The proposal and its patch file; ProposalError names what is missing or wrong."""
    if not folder.is_dir():
        raise ProposalError(f"`{folder}` is not a folder: pass the folder a developer run wrote with --out")
    proposal = read_proposal(folder)
    if proposal.repository.lower() != repository.lower():
        raise ProposalError(
            f"`{folder / 'proposal.json'}` is for repository `{proposal.repository}`, not `{repository}`: "
            "publish it from a workflow of that repository"
        )
    patch_path = folder / PATCH_FILE
    if not patch_path.is_file():
        raise ProposalError(f"`{patch_path}` not found: the developer run writes it beside proposal.json")
    return ProposalFolder(proposal=proposal, patch_path=patch_path)


def read_patch(folder: ProposalFolder, policy: PublishPolicy) -> bytes:
    """The patch bytes, once its size is within the policy and its size and sha256 match the proposal."""
    proposal = folder.proposal
    size = folder.patch_path.stat().st_size
    if size > policy.max_patch_bytes:
        raise PublishRefused(
            f"the patch is {size} bytes, over the limit of {policy.max_patch_bytes} "
            "(`[publish] max_patch_bytes` in config/agents.toml)"
        )
    patch = folder.patch_path.read_bytes()
    digest = hashlib.sha256(patch).hexdigest()
    if len(patch) != proposal.patch_bytes or digest != proposal.patch_sha256:
        raise PublishRefused(
            f"`{PATCH_FILE}` does not match `proposal.json` ({len(patch)} bytes, sha256 {digest[:12]}; "
            f"the proposal says {proposal.patch_bytes} bytes, sha256 {proposal.patch_sha256[:12]}): "
            "the artifact was changed after the run wrote it"
        )
    return patch


def touched_paths(patch: bytes) -> list[str]:
    """Every path the patch creates, changes, deletes or renames (old and new), as git reads them."""
    paths: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="osorganic-numstat-") as scratch:
        patch_file = Path(scratch) / PATCH_FILE
        patch_file.write_bytes(patch)
        for direction in ([], ["-R"]):
            result = run_git(["apply", "--numstat", "-z", *direction, str(patch_file)], cwd=Path(scratch))
            if result.returncode != 0:
                raise PublishRefused(f"git cannot read the patch: {result.stderr.decode(errors='replace').strip()[:500]}")
            paths.update(numstat_paths(result.stdout))
    return sorted(paths)


def numstat_paths(output: bytes) -> list[str]:
    """Paths of `--numstat -z` records: `added\\tdeleted\\tpath\\0`, or `added\\tdeleted\\t\\0old\\0new\\0`."""
    tokens = output.split(b"\0")
    paths: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token:
            continue
        fields = token.split(b"\t", 2)
        if len(fields) != 3:
            raise PublishRefused(f"git printed an unexpected numstat record: {token[:200]!r}")
        if fields[2]:
            paths.append(fields[2].decode("utf-8", errors="surrogateescape"))
        else:
            paths += [name.decode("utf-8", errors="surrogateescape") for name in tokens[index : index + 2]]
            index += 2
    return paths


def check_paths(paths: list[str], policy: PublishPolicy) -> None:
    """Refuse the first path that breaks a rule, and a patch touching more files than allowed."""
    if len(paths) > policy.max_files:
        raise PublishRefused(
            f"the patch touches {len(paths)} files, over the limit of {policy.max_files} "
            "(`[publish] max_files` in config/agents.toml)"
        )
    for path in paths:
        problem = path_problem(path, policy)
        if problem:
            raise PublishRefused(problem)


def path_problem(path: str, policy: PublishPolicy) -> str | None:
    """Why the patch may not touch `path`, or None when it may."""
    shown = f"`{path}`"
    if not path or "\0" in path or "\\" in path or not path.isprintable():
        return f"{shown} is not a plain relative path"
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path):
        return f"{shown} is an absolute path, outside the repository"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return f"{shown} leaves the repository or is not normalised (`..`, `.` or an empty component)"
    if any(part.casefold() == ".git" for part in parts):
        return f"{shown} is inside `.git/`, which is never written"
    # `.github` or `.github/workflows` themselves can only be written as a file or a symlink standing in
    # for the workflows folder: treated as workflow changes.
    workflow_path = path.casefold().startswith(WORKFLOWS_PREFIX) or path.casefold() in (".github", ".github/workflows")
    if workflow_path and not policy.allow_workflow_changes:
        return f"{shown} is a GitHub Actions workflow (`{WORKFLOWS_PREFIX}`): {ALLOW_WORKFLOWS_HINT}"
    for protected in policy.protected_paths:
        protected = protected.strip("/")
        if protected and (path == protected or path.startswith(protected + "/")):
            return (
                f"{shown} is protected (`{protected}` in `[publish] protected_paths` of config/agents.toml); "
                "remove it from that list to allow changes to it"
            )
    return None


def symlink_problem(path: str, target: bytes) -> str | None:
    """Why a symlink at `path` pointing at `target` may not be published, or None when it stays inside."""
    try:
        text = target.decode("utf-8")
    except UnicodeDecodeError:
        return f"symlink `{path}` has a target that is not UTF-8 text"
    if not text or "\0" in text or "\\" in text or text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
        return f"symlink `{path}` points at `{text}`, an absolute path outside the repository"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), text))
    if resolved == ".." or resolved.startswith("../"):
        return f"symlink `{path}` points at `{text}`, which leaves the repository"
    if any(part.casefold() == ".git" for part in resolved.split("/")):
        return f"symlink `{path}` points at `{text}`, inside `.git/`"
    return None
