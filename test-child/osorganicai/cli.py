"""`python -m osorganicai product-owner|claim|developer|publish|reply|lifecycle|sweep`: what the agent
workflows run.

Agents come from the child's `src/agents/` when it defines them (its specialisations), else
from the runtime. A missing setting ends the command with a one-line error naming it.

The Developer workflow runs three jobs: `claim` (marks the job running, checks the sender's
permission, names the issue's branch), `developer` (the model's tool loop in a checkout, with
no write token; writes a proposal folder) and `publish` (the only job with the write token; after
a `revise` run it also runs `reply`: an answer in each review thread and the review requested again).
The job's kind (`developer`, `fix` or `revise`, see `jobs.JOB_KINDS`) is the `developer --mode`.
The Lifecycle workflow runs `lifecycle --job-id`: the webhook's delivery about the runtime's pull
request (checks, reviews, closed, deployments) handled by `osorganicai/lifecycle/`.
Every job starts with a claim (`claim`, and the start of `product-owner` and `lifecycle`) that records
its workflow run (`--workflow-run-id`) and, while the agents are paused (`interventions.py`), ends
without acting and holds the job for their resumption. The Developer loop reads the switch between
its steps and stops as `budget_exhausted: paused`, its work kept.

Exit codes: 0 done (`developer`: the checks pass, or nothing to do); 1 the job failed or was
refused (`publish`: the proposal was refused or conflicts with the branch); 2 usage, settings
or an unreadable proposal; `developer` only: 3 a budget ran out, or the run was cancelled or
paused (the partial work is in the proposal), 4 the change is proposed with failing checks.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import REPOSITORY_ROOT, ConfigError, load_config
from .settings import InvalidSettingError, MissingSettingError, Settings

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
RUN_ID_HELP = "the workflow run that claims the job ($GITHUB_RUN_ID), so cancelling the job cancels the run"


def agent_class(kind: str) -> type[Any]:
    """The child's subclass from `src/agents/<kind>.py` if present, else the runtime's class."""
    from .agents import DeveloperAgent, ProductOwnerAgent

    default = ProductOwnerAgent if kind == "product_owner" else DeveloperAgent
    try:
        module = importlib.import_module(f"src.agents.{kind}")
    except ModuleNotFoundError as error:
        if error.name in {"src", "src.agents", f"src.agents.{kind}"}:
            return default
        raise
    candidate = getattr(module, default.__name__, None)
    if isinstance(candidate, type) and issubclass(candidate, default):
        return candidate
    return default


def run_product_owner(issue: int, job_id: uuid.UUID | None, settings: Settings, workflow_run_id: int | None = None) -> int:
    from .db import Store
    from .github import GitHubClient
    from .llm import provider_from_settings

    kind = "product_owner"
    repository = settings.require_repository()
    config = load_config()
    llm = provider_from_settings(settings, config.product_owner.provider)
    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        refusal = claim_job(store, job_id, github, workflow_run_id) if job_id is not None else None
        if refusal is not None:
            print(f"{kind} on #{issue}: {refusal}")
            return EXIT_OK
        agent = agent_class(kind)(
            repository=repository, settings=settings, config=config, store=store, github=github, llm=llm, job_id=job_id
        )
        agent.code_index = code_index_of(REPOSITORY_ROOT)
        try:
            result = agent.run(issue)
        except Exception as error:
            if job_id is not None:
                store.finish_job(job_id, succeeded=False, error=f"{error.__class__.__name__}: {error}")
            raise
        succeeded = record_product_owner_outcome(store, job_id, result)
        print(f"{kind} on #{issue}: {result.outcome}{': ' + result.detail if result.detail else ''}")
        return EXIT_OK if succeeded else EXIT_JOB_FAILED
    finally:
        github.close()
        store.close()


def record_product_owner_outcome(store: Any, job_id: uuid.UUID | None, result: Any) -> bool:
    """Finish the job as the run ended (`paused`: the job waits for the agents' resumption); whether it succeeded."""
    succeeded = result.outcome not in {"failed", "rejected"}
    if job_id is not None and result.outcome == "paused":
        store.pause_job(job_id, f"paused: {result.detail}")
    elif job_id is not None:
        store.finish_job(job_id, succeeded=succeeded, error=None if succeeded else result.detail)
    return succeeded


def code_index_of(root: Path) -> Any:
    """A read-only content index of the checkout the agent runs in, or None outside a git checkout."""
    from .developer.retrieval import RepositoryIndex

    if not (root / ".git").exists():
        return None
    try:
        return RepositoryIndex.build(root)
    except (OSError, RuntimeError) as error:
        print(f"warning: the code search is off: {error}", file=sys.stderr)
        return None


def run_developer(
    issue: int, job_id: uuid.UUID | None, checkout: Path, out: Path, settings: Settings, mode: str = "developer"
) -> int:
    """The model's job: no write token, and the database only to read the pause switch and the job's
    budget factor (with a job and DATABASE_URL). Reads the issue, works, writes `out`."""
    from .agents.developer import DeveloperAgent
    from .db import Store
    from .developer.loop import Interrupted
    from .developer.sandbox import harden_process
    from .github import GitHubClient
    from .llm import provider_from_settings

    repository = settings.require_repository()
    config = load_config(checkout)
    llm = provider_from_settings(settings, config.developer.provider)
    github = GitHubClient.from_settings(settings)
    database_url = settings.get("DATABASE_URL")
    store = Store(database_url, max_connections=1) if job_id is not None and database_url else None
    harden_process()  # the secrets now live in the clients only; the model's commands cannot read them
    try:
        agent = agent_class("developer")(
            repository=repository, settings=settings, config=config, store=None, github=github, llm=llm, job_id=job_id
        )
        if not isinstance(agent, DeveloperAgent):
            raise ConfigError("src/agents/developer.py: DeveloperAgent must subclass osorganicai.agents.DeveloperAgent")
        if store is not None and job_id is not None:
            agent.controls = job_controls(store, job_id)
        result = agent.run(issue, checkout=checkout, out=out, mode=mode)
    except Interrupted as interrupted:
        print(f"developer on #{issue}: stopped by {interrupted.signal_name} before any work", file=sys.stderr)
        return EXIT_JOB_FAILED
    finally:
        github.close()
        if store is not None:
            store.close()
    print(f"developer on #{issue}: {result.outcome}{': ' + result.detail if result.detail else ''}", file=sys.stderr)
    if result.proposal is not None:
        print(f"proposal written to {out}", file=sys.stderr)
    return result.exit_code


def job_controls(store: Any, job_id: uuid.UUID) -> Any:
    """What the Developer loop follows between steps: the pause switch and this job's budget factor."""
    from .developer.controls import ControlPoll, ControlState

    def read() -> ControlState:
        controls = store.job_controls(job_id)
        return ControlState(paused=controls.paused, paused_by=controls.paused_by, budget_factor=float(controls.budget_factor))

    return ControlPoll(read)


def run_claim(issue: int, job_id: uuid.UUID | None, settings: Settings, workflow_run_id: int | None = None) -> int:
    """Before the model's job: mark the job running and check the sender's permission (when a job
    is given), then print `proceed=true|false` and `branch=NAME` (the issue's existing branch, if
    any) and, for a job, `mode=KIND` (its kind: developer, fix or revise) for $GITHUB_OUTPUT."""
    from .db import Store
    from .github import GitHubClient

    repository = settings.require_repository()
    github = GitHubClient.from_settings(settings)
    store = Store(settings.require("DATABASE_URL"), max_connections=1) if job_id is not None else None
    try:
        refusal = claim_job(store, job_id, github, workflow_run_id) if store is not None and job_id is not None else None
        mode = "developer"
        if refusal is None and store is not None and job_id is not None:
            mode, refusal = developer_mode(store, job_id, repository, issue)
        if refusal is not None:
            print(f"developer on #{issue}: {refusal}", file=sys.stderr)
            print("proceed=false")
            return EXIT_OK
        print("proceed=true")
        if job_id is not None:
            print(f"mode={mode}")
        print(f"branch={existing_issue_branch(github, repository, issue) or ''}")
        return EXIT_OK
    finally:
        github.close()
        if store is not None:
            store.close()


def claim_job(store: Any, job_id: uuid.UUID, github: Any, workflow_run_id: int | None = None) -> str | None:
    """Start the job row in this workflow run; why it must not run, or None to go on. A sender the webhook
    could not check is looked up here (`jobs.permission_refusal`; a writer's engagement is recorded). A
    refused job is finished as failed; while the agents are paused it is held (pending) for their
    resumption instead."""
    from .db import held_reason
    from .jobs import permission_refusal

    claim = store.claim_job(job_id, workflow_run_id)
    if claim.held_by is not None:
        return held_reason(claim.held_by)
    job = claim.job
    if job is None:
        return f"job {job_id} is unknown or already finished: nothing to do"
    try:
        refusal = permission_refusal(github, job, store)
    except Exception as error:
        store.finish_job(job_id, succeeded=False, error=f"permission check failed: {error.__class__.__name__}")
        raise
    if refusal is not None:
        store.finish_job(job_id, succeeded=False, error=refusal)
    return refusal


def developer_mode(store: Any, job_id: uuid.UUID, repository: str, issue: int) -> tuple[str, str | None]:
    """The job's kind as the Developer's mode, and why it must not run (the conversation ended)."""
    from .jobs import DEVELOPER_MODES
    from .lifecycle.state import OPEN, PullStates

    job = store.get_job(job_id)
    mode = job.kind if job is not None and job.kind in DEVELOPER_MODES else "developer"
    if mode == "developer":
        return mode, None
    state = PullStates(store).get(repository, issue)
    if state is not None and state.state != OPEN:
        refusal = f"the pull request's conversation is {state.state}: no {mode} run"
        store.finish_job(job_id, succeeded=False, error=refusal)
        return mode, refusal
    return mode, None


def existing_issue_branch(github: Any, repository: str, issue: int) -> str | None:
    """The issue's branch (`feature/issue-N-*`) when an earlier run made one."""
    response = github.raw_request("GET", f"/repos/{repository}/git/matching-refs/heads/feature/issue-{issue}-")
    refs = response.json() if response.content else []
    names = sorted(str(ref.get("ref", "")).removeprefix("refs/heads/") for ref in refs if isinstance(ref, dict))
    return names[0] if names else None


def run_publish(folder: Path, settings: Settings) -> int:
    """The only job with the write token: validate the proposal in `folder` and publish it."""
    from .db import Store
    from .github import GitHubClient
    from .proposal import ProposalError
    from .publishing import PublishPolicy, exit_code, publish

    repository = settings.require_repository()
    config = load_config()
    policy = PublishPolicy(
        max_patch_bytes=config.publish.max_patch_bytes,
        max_files=config.publish.max_files,
        allow_workflow_changes=config.publish.allow_workflow_changes,
        protected_paths=config.publish.protected_paths,
    )
    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        result = publish(folder, repository=repository, github=github, store=store, policy=policy, bot_login=settings.bot_login)
    except ProposalError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        github.close()
        store.close()
    print(f"publish: {result.outcome}{': ' + result.detail if result.detail else ''}", file=sys.stderr)
    if result.pull_request_url:
        print(result.pull_request_url)
    return exit_code(result)


def run_reply(folder: Path, settings: Settings) -> int:
    """After publishing a `revise` run: reply in each unanswered review thread, request the review again."""
    from .db import Store
    from .github import GitHubClient
    from .lifecycle.context import answer_reviews
    from .proposal import ProposalError, read_proposal

    repository = settings.require_repository()
    try:
        proposal = read_proposal(folder)
    except ProposalError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        job = store.get_job(uuid.UUID(proposal.job_id)) if proposal.job_id else None
        if job is None or job.kind != "revise":
            print("reply: not a revise run, nothing to answer", file=sys.stderr)
            return EXIT_OK
        pull = github.find_open_pull(repository, proposal.branch)
        head = github.branch_sha(repository, proposal.branch)
        if pull is None or head is None:
            print(f"reply: no open pull request for `{proposal.branch}`", file=sys.stderr)
            return EXIT_JOB_FAILED
        replied = answer_reviews(
            github, repository, pull.number, commit_sha=head, summary=proposal.summary, bot_login=settings.bot_login
        )
        store.log_action(
            agent="developer",
            action_type="review_answered",
            payload={"pull_request": pull.number, "threads": replied, "commit": head},
            repository=repository,
            issue_number=proposal.issue,
            job_id=job.id,
        )
    finally:
        github.close()
        store.close()
    print(f"reply: answered {len(replied)} review thread(s) on #{pull.number}", file=sys.stderr)
    return EXIT_OK


def run_lifecycle(job_id: uuid.UUID, settings: Settings, workflow_run_id: int | None = None) -> int:
    """Handle the webhook delivery behind a `lifecycle` job (the runtime's pull request)."""
    from .db import Store, held_reason
    from .github import GitHubClient
    from .lifecycle import LifecycleContext, run_lifecycle_job

    repository = settings.require_repository()
    config = load_config()
    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        claim = store.claim_job(job_id, workflow_run_id)
        if claim.held_by is not None:
            print(f"lifecycle: job {job_id}: {held_reason(claim.held_by)}", file=sys.stderr)
            return EXIT_OK
        if claim.job is None:
            print(f"lifecycle: job {job_id} is unknown or already finished: nothing to do", file=sys.stderr)
            return EXIT_OK
        context = LifecycleContext(
            repository=repository,
            github=github,
            store=store,
            bot_login=settings.bot_login,
            max_fix_rounds=config.developer_budgets.max_fix_rounds,
            job_id=job_id,
        )
        try:
            outcome = run_lifecycle_job(context, job_id)
        except Exception as error:
            store.finish_job(job_id, succeeded=False, error=f"{error.__class__.__name__}: {error}")
            raise
        store.finish_job(job_id, succeeded=True)
    finally:
        github.close()
        store.close()
    print(f"lifecycle: {outcome.action}: {outcome.detail}", file=sys.stderr)
    return EXIT_OK


def run_sweep(settings: Settings, limit: int) -> int:
    """One sweeper run (`sweeper.py`, the same as the Vercel cron's), printed for the workflow's log."""
    from .db import Store
    from .github import GitHubClient
    from .sweeper import run_sweeper

    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        run = run_sweeper(store, github, settings, limit=limit, source="sweeper workflow")
    finally:
        github.close()
        store.close()
    print("\n".join(run.summary()))
    return EXIT_OK if not run.jobs.failed_dispatch else EXIT_JOB_FAILED


def checkout_problem(checkout: Path) -> str | None:
    if not checkout.is_dir():
        return "not a folder"
    if not (checkout / ".git").exists():
        return "not the root of a git checkout (no .git): run from the repository root or pass --checkout"
    return None


def workflow_run_id(text: str) -> int | None:
    """`--workflow-run-id`: GitHub's run id (`$GITHUB_RUN_ID`), a positive integer; empty outside Actions."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a workflow run id (a positive integer)")
    return int(text)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m osorganicai", description="osorganic agent runtime")
    commands = root.add_subparsers(dest="command", required=True)
    product_owner = commands.add_parser("product-owner", help="analyse an issue: ask questions or mark it ready-for-dev")
    product_owner.add_argument("--issue", type=int, required=True, help="the issue number")
    product_owner.add_argument("--job-id", type=uuid.UUID, default=None, help="the job row to update (optional)")
    product_owner.add_argument("--workflow-run-id", type=workflow_run_id, default=None, help=RUN_ID_HELP)
    claim = commands.add_parser("claim", help="start a developer job: mark it running, check permission, name the branch")
    claim.add_argument("--issue", type=int, required=True, help="the issue number")
    claim.add_argument("--job-id", type=uuid.UUID, default=None, help="the job row to start (optional)")
    claim.add_argument("--workflow-run-id", type=workflow_run_id, default=None, help=RUN_ID_HELP)
    developer = commands.add_parser(
        "developer", help="work a ready-for-dev issue in a git checkout and write a proposal (no write token needed)"
    )
    developer.add_argument("--issue", type=int, required=True, help="the issue number")
    developer.add_argument("--job-id", type=uuid.UUID, default=None, help="the job row, recorded in the proposal")
    developer.add_argument("--out", type=Path, required=True, help="the folder to write the proposal into")
    developer.add_argument("--checkout", type=Path, default=Path("."), help="the git checkout to work in (default: .)")
    developer.add_argument(
        "--mode",
        choices=("developer", "fix", "revise"),
        default="developer",
        help="implement the issue, fix its pull request's failing checks, or address its review (default: developer)",
    )
    publish = commands.add_parser("publish", help="validate a developer proposal and publish it as a draft pull request")
    publish.add_argument("--from", dest="folder", type=Path, required=True, help="the proposal folder")
    reply = commands.add_parser("reply", help="after publishing a revise run: answer the review threads, re-request review")
    reply.add_argument("--from", dest="folder", type=Path, required=True, help="the proposal folder")
    lifecycle = commands.add_parser("lifecycle", help="act on the runtime's pull request: checks, reviews, merge, deploys")
    lifecycle.add_argument("--job-id", type=uuid.UUID, required=True, help="the lifecycle job the webhook queued")
    lifecycle.add_argument("--workflow-run-id", type=workflow_run_id, default=None, help=RUN_ID_HELP)
    sweep_command = commands.add_parser(
        "sweep", help="dispatch jobs left pending, redeliver failed webhook deliveries, say whether the agents are paused"
    )
    sweep_command.add_argument("--limit", type=int, default=20)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "sweep":
            return run_sweep(settings, args.limit)
        if args.command == "publish":
            return run_publish(args.folder, settings)
        if args.command == "reply":
            return run_reply(args.folder, settings)
        if args.command == "lifecycle":
            return run_lifecycle(args.job_id, settings, args.workflow_run_id)
        if args.issue <= 0:
            print("error: --issue must be a positive issue number", file=sys.stderr)
            return EXIT_USAGE
        if args.command == "claim":
            return run_claim(args.issue, args.job_id, settings, args.workflow_run_id)
        if args.command == "developer":
            problem = checkout_problem(args.checkout)
            if problem:
                print(f"error: --checkout {args.checkout}: {problem}", file=sys.stderr)
                return EXIT_USAGE
            return run_developer(args.issue, args.job_id, args.checkout.resolve(), args.out.resolve(), settings, args.mode)
        return run_product_owner(args.issue, args.job_id, settings, args.workflow_run_id)
    except (MissingSettingError, InvalidSettingError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - one line, no stack trace, for the workflow log
        print(f"error: {error.__class__.__name__}: {error}", file=sys.stderr)
        return EXIT_JOB_FAILED
