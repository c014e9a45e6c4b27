"""`python -m osorganicai product-owner|developer|sweep`: what the agent workflows run.

Agents come from the child's `src/agents/` when it defines them (its specialisations), else
from the runtime. A missing setting ends the command with a one-line error naming it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from .config import ConfigError, load_config
from .settings import InvalidSettingError, MissingSettingError, Settings

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2


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


def run_agent(kind: str, issue: int, job_id: uuid.UUID | None, settings: Settings) -> int:
    from .db import Store
    from .github import GitHubClient
    from .jobs import permission_refusal
    from .llm import provider_from_settings

    repository = settings.require_repository()
    config = load_config()
    agent_settings = config.product_owner if kind == "product_owner" else config.developer
    llm = provider_from_settings(settings, agent_settings.provider)
    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        if job_id is not None:
            job = store.start_job(job_id)
            if job is None:
                print(f"job {job_id} is unknown or already finished: nothing to do", file=sys.stderr)
                return EXIT_OK
            try:
                refusal = permission_refusal(github, job)
            except Exception as error:
                store.finish_job(job_id, succeeded=False, error=f"permission check failed: {error.__class__.__name__}")
                raise
            if refusal is not None:
                store.finish_job(job_id, succeeded=False, error=refusal)
                print(f"{kind} on #{issue}: {refusal}")
                return EXIT_OK
        agent = agent_class(kind)(
            repository=repository, settings=settings, config=config, store=store, github=github, llm=llm, job_id=job_id
        )
        try:
            result = agent.run(issue)
        except Exception as error:
            if job_id is not None:
                store.finish_job(job_id, succeeded=False, error=f"{error.__class__.__name__}: {error}")
            raise
        succeeded = result.outcome not in {"failed", "rejected"}
        if job_id is not None:
            store.finish_job(job_id, succeeded=succeeded, error=None if succeeded else result.detail)
        print(f"{kind} on #{issue}: {result.outcome}{': ' + result.detail if result.detail else ''}")
        return EXIT_OK if succeeded else EXIT_JOB_FAILED
    finally:
        github.close()
        store.close()


def run_sweep(settings: Settings, limit: int) -> int:
    from .db import Store
    from .github import GitHubClient
    from .jobs import sweep

    store = Store(settings.require("DATABASE_URL"), max_connections=1)
    github = GitHubClient.from_settings(settings)
    try:
        report = sweep(store, github, limit=limit)
    finally:
        github.close()
        store.close()
    print(
        f"sweep: {len(report.dispatched)} dispatched, {len(report.failed_dispatch)} failed to dispatch, "
        f"{len(report.abandoned)} given up"
    )
    return EXIT_OK if not report.failed_dispatch else EXIT_JOB_FAILED


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m osorganicai", description="osorganic agent runtime")
    commands = root.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("product-owner", "analyse an issue: ask questions or mark it ready-for-dev"),
        ("developer", "implement a ready-for-dev issue as a draft pull request"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--issue", type=int, required=True, help="the issue number")
        command.add_argument("--job-id", type=uuid.UUID, default=None, help="the job row to update (optional)")
    sweep_command = commands.add_parser("sweep", help="dispatch jobs left pending")
    sweep_command.add_argument("--limit", type=int, default=20)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "sweep":
            return run_sweep(settings, args.limit)
        kind = "product_owner" if args.command == "product-owner" else "developer"
        if args.issue <= 0:
            print("error: --issue must be a positive issue number", file=sys.stderr)
            return EXIT_USAGE
        return run_agent(kind, args.issue, args.job_id, settings)
    except (MissingSettingError, InvalidSettingError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - one line, no stack trace, for the workflow log
        print(f"error: {error.__class__.__name__}: {error}", file=sys.stderr)
        return EXIT_JOB_FAILED
