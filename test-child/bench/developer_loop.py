"""Measure the Developer loop on scripted scenarios: steps, tokens, wall time, and the loop's own
overhead per step (time spent neither in the model nor in the tools and checks).

Each scenario runs the real loop in a fresh git checkout of a small shop (a 3,000-line module and
its tests) against the scripted model server of the tests (OpenAI and Anthropic wire formats) on
127.0.0.1, with the default checks replaced by `ruff check` and `pytest` of this interpreter.
No database and no network are needed. Usage: python bench/developer_loop.py [repeats]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from osorganicai.settings import Settings  # noqa: E402
from tests.developer_support import DeveloperRun, make_project, ready_issue, write_config  # noqa: E402
from tests.fake_models import Say, ScriptedModel  # noqa: E402
from tests.support import FakeGitHub  # noqa: E402
from tests.test_developer_loop import endless_exploration, finish, the_fix  # noqa: E402

SETTINGS = Settings.from_env({"GITHUB_REPOSITORY": "Codertocat/Hello-World", "OSORGANIC_BOT_LOGIN": "hello-bot[bot]"})


def lint_failure_then_fix() -> list[Say]:
    created = {"path": "shop/extra.py", "content": "import os\n\n\ndef extra() -> int:\n    return 1\n"}
    return [
        Say([("create_file", created)]),
        Say([finish()]),
        Say([("str_replace", {"path": "shop/extra.py", "old_str": "import os\n", "new_str": ""})]),
        Say([finish()]),
    ]


SCENARIOS: dict[str, tuple[str, str, Callable[[], list]]] = {
    "one-line fix, OpenAI wire": ("openai", "", the_fix),
    "one-line fix, Anthropic wire": ("anthropic", "", the_fix),
    "failing check fed back": ("openai", "", lint_failure_then_fix),
    "max_steps budget (10 steps)": ("openai", "max_steps = 10", lambda: [endless_exploration] * 20),
}
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-5-5"}


def run_scenario(wire: str, budget_line: str, script: list) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="osorganic-bench-") as scratch:
        root = Path(scratch)
        github = FakeGitHub()
        ready_issue(github)
        server, url = github.serve()
        try:
            run = DeveloperRun(make_project(root / "checkout"), root / "proposal", github, url, SETTINGS)
            config = write_config(root / "cfg", developer=budget_line, model=MODELS[wire])
            with ScriptedModel(wire, script, model=MODELS[wire]) as model:
                started = time.perf_counter()
                result = run.run(model.provider(), config)
                wall = time.perf_counter() - started
            entries = [json.loads(line) for line in (run.out / "transcript.jsonl").read_text().splitlines()]
        finally:
            server.shutdown()
            server.server_close()
    timings = next(entry for entry in entries if entry["kind"] == "timings")
    proposal = result.proposal
    return {
        "status": proposal.status if proposal else result.outcome,
        "steps": proposal.usage.steps if proposal else 0,
        "tokens": (proposal.usage.input_tokens + proposal.usage.output_tokens) if proposal else 0,
        "wall_s": wall,
        "model_s": timings["model_seconds"],
        "tools_s": timings["tool_seconds"],
        "overhead_ms_per_step": timings["overhead_seconds_per_step"] * 1000,
    }


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    columns = ("steps", "tokens", "wall s", "model s", "tools s", "loop ms/step")
    print(f"{'scenario':<32} {'status':<17} " + " ".join(f"{column:>8}" for column in columns))
    for name, (wire, budget_line, script) in SCENARIOS.items():
        runs = [run_scenario(wire, budget_line, script()) for _ in range(repeats)]
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "status"}
        print(
            f"{name:<32} {runs[0]['status']:<17} {median['steps']:>8.0f} {median['tokens']:>8.0f} {median['wall_s']:>8.2f} "
            f"{median['model_s']:>8.3f} {median['tools_s']:>8.2f} {median['overhead_ms_per_step']:>8.2f}"
        )
    print(f"(medians of {repeats} runs; 'loop ms/step' is wall time minus model and tool time, per model turn)")


if __name__ == "__main__":
    main()
