"""The proposal a Developer run hands to the publishing job: `proposal.json` beside `change.patch`
and `transcript.jsonl` in one folder (a workflow artifact between the two jobs).

The run that talked to the model writes it and holds no write token; `publish` reads it, trusts
nothing in it, and validates the patch itself before anything reaches GitHub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROPOSAL_FILE = "proposal.json"
PATCH_FILE = "change.patch"
TRANSCRIPT_FILE = "transcript.jsonl"
FORMAT_VERSION = 1

# ready: the checks pass. checks_failing: the model finished but the checks still fail (proposed as
# failing, never as passing). budget_exhausted: a budget ran out or the run was stopped by a signal;
# the work so far is kept. failed: the run could not go on (provider error...); the work so far is kept.
# no_changes: the run ended with nothing to propose.
ProposalStatus = Literal["ready", "checks_failing", "budget_exhausted", "failed", "no_changes"]
FileChange = Literal["added", "modified", "deleted", "renamed", "type_changed"]


class ProposalError(ValueError):
    """A proposal folder that cannot be read: a missing file, bad JSON, or a field out of shape."""


class CheckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    command: str = Field(max_length=2_000)
    exit_code: int | None
    passed: bool
    timed_out: bool = False
    duration_seconds: float = Field(ge=0)
    output_tail: str = Field(default="", max_length=20_000)
    round: int = Field(ge=1)


class TouchedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(max_length=4_096)
    change: FileChange
    old_path: str | None = Field(default=None, max_length=4_096)


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(max_length=100)
    model: str = Field(max_length=200)
    steps: int = Field(ge=0)
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0)
    minutes: float = Field(ge=0)


class Proposal(BaseModel):
    """What `proposal.json` holds."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    repository: str = Field(max_length=200)
    issue: int = Field(gt=0)
    job_id: str | None = Field(default=None, max_length=64)
    # The commit the run started from (the checkout's HEAD) and the branch it was on, if any:
    # the default branch on a first run, the issue's branch when a run goes on from earlier work.
    base_commit: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    base_branch: str | None = Field(default=None, max_length=255)
    default_branch: str = Field(max_length=255)
    branch: str = Field(max_length=255)
    title: str = Field(max_length=300)
    summary: str = Field(max_length=20_000)
    status: ProposalStatus
    budget_exhausted: str | None = Field(default=None, max_length=100)
    remaining: str = Field(default="", max_length=5_000)
    error: str | None = Field(default=None, max_length=2_000)
    checks: list[CheckOutcome] = Field(default_factory=list, max_length=200)
    check_rounds: int = Field(default=0, ge=0)
    usage: Usage
    files: list[TouchedFile] = Field(default_factory=list, max_length=10_000)
    patch_bytes: int = Field(ge=0)
    patch_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def checks_passed(self) -> bool:
        """True when the last round of checks passed (and there was one)."""
        last_round = [check for check in self.checks if check.round == self.check_rounds]
        return bool(last_round) and all(check.passed for check in last_round)


def write_proposal(folder: Path, proposal: Proposal) -> Path:
    """Write `proposal.json` into `folder` (atomically: a reader never sees half a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PROPOSAL_FILE
    partial = folder / (PROPOSAL_FILE + ".partial")
    partial.write_text(proposal.model_dump_json(indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def read_proposal(folder: Path) -> Proposal:
    """Read and validate `proposal.json` in `folder`; errors name the file and the field."""
    path = folder / PROPOSAL_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ProposalError(f"`{path}` not found: pass the folder a developer run wrote with --out") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ProposalError(f"cannot read `{path}`: {error}") from error
    try:
        return Proposal.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'document'}: {item['msg']}" for item in error.errors()[:5]
        )
        raise ProposalError(f"`{path}` is not a valid proposal: {problems}") from error
