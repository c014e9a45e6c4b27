"""Applying a proposal's patch to the branch head without a clone: the touched files are fetched through
the Git data API into a scratch repository, `git apply --cached --binary` runs on its index (three-way
when the branch moved on since the run's base commit), and the result is read back as blobs and modes.

`--cached` is `--index` without a working tree: nothing from the proposal is ever written to disk as a
file or a symlink, and no `.gitattributes` conversion touches the content between the patch and GitHub.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..github import GitHubClient, GitHubError, TreeEntry
from .patch_rules import PublishConflict, PublishRefused, run_git, symlink_problem

PUBLISHABLE_MODES = frozenset({"100644", "100755", "120000"})


@dataclass(frozen=True)
class FileState:
    mode: str
    sha: str


@dataclass(frozen=True)
class FileChange:
    """One path of the new tree: `new` None deletes it; `content` is the new blob's bytes."""

    path: str
    old: FileState | None
    new: FileState | None
    content: bytes | None


class ScratchRepository:
    """A throwaway git repository holding only the touched files, driven with plumbing commands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._git(["init", "-q", str(path)], cwd=path.parent)

    def _git(self, arguments: list[str], data: bytes | None = None, cwd: Path | None = None) -> bytes:
        result = run_git(arguments, cwd=cwd or self.path, data=data)
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"git {arguments[0]} failed in the scratch repository: {message[:500]}")
        return result.stdout

    def add_blob(self, content: bytes) -> str:
        return self._git(["hash-object", "-w", "--stdin"], data=content).decode().strip()

    def blob(self, sha: str) -> bytes:
        return self._git(["cat-file", "blob", sha])

    def stage(self, files: dict[str, FileState]) -> None:
        """Make the index hold exactly `files`."""
        records = b"".join(f"{state.mode} {state.sha}\t{path}".encode() + b"\0" for path, state in sorted(files.items()))
        if records:
            self._git(["update-index", "-z", "--add", "--index-info"], data=records)

    def staged(self) -> dict[str, FileState]:
        files: dict[str, FileState] = {}
        for record in self._git(["ls-files", "-s", "-z"]).split(b"\0"):
            if record:
                meta, _, path = record.partition(b"\t")
                mode, sha, _stage = meta.decode().split()
                files[path.decode("utf-8", errors="surrogateescape")] = FileState(mode=mode, sha=sha)
        return files

    def unmerged(self) -> list[str]:
        names = self._git(["diff", "--name-only", "--diff-filter=U", "-z"]).split(b"\0")
        return sorted({name.decode("utf-8", errors="surrogateescape") for name in names if name})

    def apply(self, patch: bytes, *, three_way: bool) -> tuple[bool, str]:
        """`git apply --cached --binary` (with --3way): (applied, git's message)."""
        patch_file = self.path.parent / f"{self.path.name}.patch"
        patch_file.write_bytes(patch)
        arguments = ["apply", "--cached", "--binary", "--whitespace=nowarn"]
        result = run_git([*arguments, *(["--3way"] if three_way else []), str(patch_file)], cwd=self.path)
        return result.returncode == 0, result.stderr.decode(errors="replace").strip()


def files_at_commit(github: GitHubClient, repository: str, commit_sha: str, paths: list[str]) -> dict[str, TreeEntry]:
    """The tree entries of `paths` in a commit (absent paths are left out), from one recursive tree read
    or, when GitHub truncates that, by walking the directories leading to each path."""
    try:
        tree_sha = github.commit_tree_sha(repository, commit_sha)
    except GitHubError as error:
        if error.status in (404, 422):
            raise PublishRefused(f"commit {commit_sha[:12]} is not in {repository}: {error.message}") from error
        raise
    wanted = set(paths)
    entries, truncated = github.tree_entries(repository, tree_sha, recursive=True)
    if not truncated:
        return {entry.path: entry for entry in entries if entry.path in wanted}
    return _walk_to_paths(github, repository, tree_sha, wanted)


def _walk_to_paths(github: GitHubClient, repository: str, root_tree: str, wanted: set[str]) -> dict[str, TreeEntry]:
    listings: dict[str, dict[str, TreeEntry]] = {}

    def listing(tree_sha: str) -> dict[str, TreeEntry]:
        if tree_sha not in listings:
            entries, _ = github.tree_entries(repository, tree_sha, recursive=False)
            listings[tree_sha] = {entry.path: entry for entry in entries}
        return listings[tree_sha]

    found: dict[str, TreeEntry] = {}
    for path in sorted(wanted):
        tree_sha = root_tree
        parts = path.split("/")
        for depth, name in enumerate(parts):
            entry = listing(tree_sha).get(name)
            if entry is None:
                break
            if depth == len(parts) - 1:
                found[path] = TreeEntry(path=path, mode=entry.mode, type=entry.type, sha=entry.sha)
            elif entry.type == "tree":
                tree_sha = entry.sha
            else:
                break
    return found


class BlobSource:
    """Blobs read through the Git data API once, then written into any scratch repository."""

    def __init__(self, github: GitHubClient, repository: str) -> None:
        self.github = github
        self.repository = repository
        self._contents: dict[str, bytes] = {}

    def load(self, scratch: ScratchRepository, entries: dict[str, TreeEntry]) -> dict[str, FileState]:
        """Each entry's blob in `scratch`, checked to hash to GitHub's sha."""
        files: dict[str, FileState] = {}
        for path, entry in sorted(entries.items()):
            if entry.type != "blob" or entry.mode not in PUBLISHABLE_MODES:
                raise PublishRefused(f"the patch touches `{path}`, a {entry.type} with mode {entry.mode} (a submodule?)")
            if entry.sha not in self._contents:
                self._contents[entry.sha] = self.github.get_blob(self.repository, entry.sha)
            sha = scratch.add_blob(self._contents[entry.sha])
            if sha != entry.sha:
                raise RuntimeError(f"GitHub's blob for `{path}` hashes to {sha}, not {entry.sha}")
            files[path] = FileState(mode=entry.mode, sha=sha)
        return files


def apply_patch(
    github: GitHubClient,
    repository: str,
    workspace: Path,
    patch: bytes,
    paths: list[str],
    *,
    head: str,
    base_commit: str,
) -> list[FileChange]:
    """The file changes that turn `head` into head-plus-patch: none when `head` already holds the patch (an
    earlier publish of the same proposal). PublishRefused when the patch does not apply to its own base
    commit; PublishConflict when the branch moved on since and the patch no longer fits on top."""
    blobs = BlobSource(github, repository)
    head_entries = files_at_commit(github, repository, head, paths)
    if head == base_commit:
        scratch = ScratchRepository(workspace / "head")
        at_head = blobs.load(scratch, head_entries)
        return _changes(scratch, at_head, _apply_on_base(scratch, at_head, patch, base_commit))
    base_scratch = ScratchRepository(workspace / "base")
    on_base = _apply_on_base(
        base_scratch, blobs.load(base_scratch, files_at_commit(github, repository, base_commit, paths)), patch, base_commit
    )
    if on_base == {path: FileState(mode=entry.mode, sha=entry.sha) for path, entry in head_entries.items()}:
        return []
    scratch = ScratchRepository(workspace / "head")
    blobs.load(scratch, files_at_commit(github, repository, base_commit, paths))  # the three-way merge's preimages
    at_head = blobs.load(scratch, head_entries)
    scratch.stage(at_head)
    applied, message = scratch.apply(patch, three_way=True)
    if not applied:
        conflicts = tuple(scratch.unmerged()) or _paths_in_message(message, paths)
        raise PublishConflict(
            f"the branch moved on from the run's base commit {base_commit[:12]} to {head[:12]} "
            "and the patch no longer applies on top of those changes",
            conflicts,
            message[:2000],
        )
    return _changes(scratch, at_head, scratch.staged())


def _apply_on_base(
    scratch: ScratchRepository, files: dict[str, FileState], patch: bytes, base_commit: str
) -> dict[str, FileState]:
    scratch.stage(files)
    applied, message = scratch.apply(patch, three_way=False)
    if not applied:
        raise PublishRefused(f"the patch does not apply to its own base commit {base_commit[:12]}: {message[:500]}")
    return scratch.staged()


def _paths_in_message(message: str, paths: list[str]) -> tuple[str, ...]:
    return tuple(path for path in paths if f"{path}:" in message or f"'{path}'" in message or f" {path}\n" in message)


def _changes(scratch: ScratchRepository, before: dict[str, FileState], after: dict[str, FileState]) -> list[FileChange]:
    changes: list[FileChange] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        content = None
        if new is not None:
            if new.mode not in PUBLISHABLE_MODES:
                raise PublishRefused(f"the patch makes `{path}` a mode {new.mode} entry (a submodule?), which is not published")
            content = scratch.blob(new.sha)
            if new.mode == "120000" and (problem := symlink_problem(path, content)):
                raise PublishRefused(problem)
        changes.append(FileChange(path=path, old=old, new=new, content=content))
    return changes
