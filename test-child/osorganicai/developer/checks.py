"""The proof before a proposal: the child's checks (`[[developer.checks]]` in config/agents.toml),
run by the runtime itself in the checkout after the model calls `finish`.

Each run of the checks is a round; every outcome is kept for the proposal, and a failing round
is told to the model as the result of its `finish` call.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence

from ..config import CheckCommand
from ..proposal import CheckOutcome
from .workspace import Workspace

OUTPUT_TAIL_CHARS = 4_000


def command_for(check: CheckCommand, changed_paths: Sequence[str]) -> str | None:
    """The shell command to run for `check`, or None when it has nothing to check."""
    if check.files == "changed-python":
        python_files = sorted(path for path in changed_paths if path.endswith(".py"))
        if not python_files:
            return None
        return f"{check.command} -- {shlex.join(python_files)}"
    return check.command


class CheckRunner:
    """Runs the configured checks in the workspace and keeps every outcome."""

    def __init__(self, workspace: Workspace, checks: Sequence[CheckCommand], changed_paths: Callable[[], Sequence[str]]) -> None:
        self.workspace = workspace
        self.checks = tuple(checks)
        self.changed_paths = changed_paths
        self.outcomes: list[CheckOutcome] = []
        self.rounds = 0

    def run_round(self) -> list[CheckOutcome]:
        """Run every check once; return this round's outcomes (also kept in `outcomes`)."""
        self.rounds += 1
        changed = list(self.changed_paths())
        round_outcomes = []
        for check in self.checks:
            command = command_for(check, changed)
            if command is None:
                continue
            result = self.workspace.run(command, timeout_seconds=check.timeout_s)
            output = (result.stdout + ("\n" if result.stdout and result.stderr else "") + result.stderr).strip()
            round_outcomes.append(
                CheckOutcome(
                    name=check.name,
                    command=command[:2_000],
                    exit_code=result.exit_code,
                    passed=result.exit_code == 0 and not result.timed_out,
                    timed_out=result.timed_out,
                    duration_seconds=round(result.duration_seconds, 3),
                    output_tail=output[-OUTPUT_TAIL_CHARS:],
                    round=self.rounds,
                )
            )
        self.outcomes.extend(round_outcomes)
        return round_outcomes


def passed(outcomes: Sequence[CheckOutcome]) -> bool:
    return all(outcome.passed for outcome in outcomes)


def report_for_model(outcomes: Sequence[CheckOutcome], rounds_left: int) -> str:
    """What the model reads as the result of `finish` when a check failed."""
    lines = ["The checks failed, so the change is not finished yet:"]
    for outcome in outcomes:
        verdict = "passed" if outcome.passed else ("timed out" if outcome.timed_out else f"failed (exit {outcome.exit_code})")
        lines.append(f"- {outcome.name}: {verdict} — `{outcome.command}`")
    for outcome in outcomes:
        if not outcome.passed:
            lines += ["", f"## {outcome.name} output (tail)", outcome.output_tail or "(no output)"]
    lines += [
        "",
        f"Fix the failures and call `finish` again ({rounds_left} more check round(s) allowed; after that the change is "
        "proposed as failing).",
    ]
    return "\n".join(lines)
