"""What publishing writes on GitHub: the pull request's title and body, the commit message, and the
issue's one status comment, each carrying a hidden marker so a re-run finds and edits it in place.

The summary and check output come from the run that talked to the model: they are cleaned of HTML
comments and invisible characters (so they cannot forge a marker) and capped before they are shown.
"""

from __future__ import annotations

from ..labels import with_marker
from ..proposal import Proposal
from ..sanitize import clean_untrusted

MAX_CHECK_ROWS = 40
MAX_FILE_ROWS = 100


def pull_marker(issue: int) -> str:
    return f"<!-- osorganic:developer issue={issue} -->"


def status_marker(issue: int) -> str:
    return f"<!-- osorganic:developer-status issue={issue} -->"


def pull_title(proposal: Proposal) -> str:
    title = clean_untrusted(proposal.title, 200).replace("\n", " ") or f"Changes for issue #{proposal.issue}"
    return f"#{proposal.issue}: {title}"


def commit_message(proposal: Proposal) -> str:
    summary = clean_untrusted(proposal.summary, 3000)
    return f"{pull_title(proposal)}\n\n{summary}\n\nRefs #{proposal.issue}".rstrip() + "\n"


def status_line(proposal: Proposal) -> str:
    """Where the run ended, in one sentence."""
    if proposal.status == "ready":
        return "**Ready for review**: the checks pass."
    if proposal.status == "checks_failing":
        return "**Checks failing**: the run finished but the last round of checks still fails (see the table)."
    if proposal.status == "budget_exhausted" and proposal.budget_exhausted == "paused":
        return "**Paused**: a person paused the agents. The work so far is kept; the run goes on when they resume."
    if proposal.status == "budget_exhausted":
        remaining = clean_untrusted(proposal.remaining, 1000)
        which = clean_untrusted(proposal.budget_exhausted, 100) or "a budget"
        text = f"**Budget exhausted** ({which}): the work so far is kept."
        return text + (f" What remains: {remaining}" if remaining else "")
    if proposal.status == "failed":
        error = clean_untrusted(proposal.error, 500) or "no detail"
        return f"**Failed with partial work**: {error}. The work so far is kept."
    return "**No changes**: the run ended with nothing to propose."


def _cell(text: str, limit: int = 120) -> str:
    flat = clean_untrusted(text, limit).replace("\n", " ").replace("|", "\\|").replace("`", "'")
    return flat or " "


def checks_table(proposal: Proposal) -> str:
    if not proposal.checks:
        return "No checks ran."
    rows = ["| Round | Check | Command | Outcome | Seconds |", "| --- | --- | --- | --- | --- |"]
    for check in proposal.checks[-MAX_CHECK_ROWS:]:
        if check.timed_out:
            outcome = "timed out"
        elif check.passed:
            outcome = "passed"
        else:
            outcome = f"failed (exit {check.exit_code})"
        rows.append(
            f"| {check.round} | {_cell(check.name)} | `{_cell(check.command)}` | {outcome} | {check.duration_seconds:.1f} |"
        )
    return "\n".join(rows)


def budget_lines(proposal: Proposal) -> str:
    usage = proposal.usage
    return (
        f"- steps: {usage.steps}\n"
        f"- tokens: {usage.input_tokens} in, {usage.output_tokens} out\n"
        f"- cost: ${usage.cost_usd:.4f}\n"
        f"- minutes: {usage.minutes:.1f}\n"
        f"- model: {_cell(usage.provider, 100)} / {_cell(usage.model, 200)}"
    )


def files_list(paths: list[str]) -> str:
    lines = [f"- `{_cell(path, 300)}`" for path in paths[:MAX_FILE_ROWS]]
    if len(paths) > MAX_FILE_ROWS:
        lines.append(f"- … and {len(paths) - MAX_FILE_ROWS} more")
    return "\n".join(lines) or "- none"


def pull_body(proposal: Proposal, paths: list[str], *, draft_note: str | None = None) -> str:
    parts = [
        pull_marker(proposal.issue),
        "## Summary",
        clean_untrusted(proposal.summary, 10_000) or "(no summary)",
        "## Status",
        status_line(proposal),
        "## Checks",
        checks_table(proposal),
        "## Budget used",
        budget_lines(proposal),
        "## Files touched",
        files_list(paths),
    ]
    if draft_note:
        parts.append(f"> {draft_note}")
    parts.append(f"Opened by the Developer agent: review the change and the checks before merging.\n\nFixes #{proposal.issue}")
    return "\n\n".join(parts)


def conflict_details(reason: str, paths: tuple[str, ...], git_output: str) -> str:
    parts = [f"Nothing was published and nothing was overwritten: {reason}."]
    if paths:
        parts.append("Conflicting files:\n" + files_list(list(paths)))
    if git_output:
        fence = "`" * 3
        parts.append(f"git said:\n\n{fence}text\n{git_output.replace(fence, chr(39) * 3)}\n{fence}")
    parts.append(RERUN_HINT)
    return "\n\n".join(parts)


def status_comment(proposal: Proposal, headline: str, details: str = "") -> str:
    run_status = f"The run ended as: {status_line(proposal)}"
    parts = [status_marker(proposal.issue), f"**Developer agent**: {headline}", run_status]
    if details:
        parts.append(details)
    parts.append("Budget used:\n" + budget_lines(proposal))
    return with_marker("\n\n".join(parts))


RERUN_HINT = (
    "To try again, run the Developer agent on this issue once more (Actions → the developer agent workflow → "
    "Run workflow, or remove and re-add the `ready-for-dev` label): the next run starts from the branch as it is now."
)
