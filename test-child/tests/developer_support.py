"""Builders for Developer-loop tests: a small real Python project in a git checkout, the agent's
configuration, and the agent wired to a scripted model server and a fake GitHub server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osorganicai.agents import DeveloperAgent
from osorganicai.config import RuntimeConfig, load_config
from osorganicai.github import GitHubClient, TokenAuth
from osorganicai.llm.base import LLMProvider
from osorganicai.settings import Settings

from .support import FakeGitHub

REPOSITORY = "Codertocat/Hello-World"
PRICING_LINES = 3_000
BUGGY_LINE = "    return price * (1 + percent / 100)  # the discount is added instead of taken off"
FIXED_LINE = "    return price * (1 - percent / 100)"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Person",
    "GIT_AUTHOR_EMAIL": "person@example.com",
    "GIT_COMMITTER_NAME": "Test Person",
    "GIT_COMMITTER_EMAIL": "person@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, env={**os.environ, **GIT_IDENTITY}
    )
    return result.stdout


def pricing_module() -> str:
    """A 3,000-line module whose one function the issue is about sits in the middle."""
    lines = ['"""Prices of the shop: one helper per product line."""', "", ""]
    index = 0
    while len(lines) < PRICING_LINES // 2:
        lines += [f"def price_of_line_{index}(base: float) -> float:", f"    return base * {index + 1}", "", ""]
        index += 1
    lines += [
        "def apply_discount(price: float, percent: float) -> float:",
        '    """The price after a percentage discount."""',
        BUGGY_LINE,
        "",
        "",
    ]
    while len(lines) < PRICING_LINES - 1:
        lines += [f"def price_of_line_{index}(base: float) -> float:", f"    return base * {index + 1}", "", ""]
        index += 1
    while lines and lines[-1] == "":
        lines.pop()
    lines += ["", ""] if len(lines) < PRICING_LINES - 2 else []
    while len(lines) < PRICING_LINES:
        lines.append(f"# reserved line {len(lines) + 1}")
    return "\n".join(lines[:PRICING_LINES]) + "\n"


def shop_files(agents_toml: str | None = None) -> dict[str, str]:
    """The files of a small shop: a long pricing module, its tests, ruff and pytest settings, and
    `config/agents.toml` when given."""
    files = {
        "shop/__init__.py": "",
        "shop/pricing.py": pricing_module(),
        "tests/__init__.py": "",
        "tests/test_pricing.py": "from shop.pricing import price_of_line_0\n\n\n"
        "def test_price_of_line_0() -> None:\n    assert price_of_line_0(2.0) == 2.0\n",
        "pyproject.toml": '[tool.ruff]\nline-length = 120\n\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
        ".gitignore": "__pycache__/\n.pytest_cache/\n.ruff_cache/\n",
    }
    if agents_toml is not None:
        files["config/agents.toml"] = agents_toml
    return files


def make_project(root: Path) -> Path:
    """A git checkout on `main` of the small shop (`shop_files`)."""
    for relative, content in shop_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "A shop")
    return root


def write_config(root: Path, developer: str = "", checks: str | None = None, model: str = "gpt-4o-mini") -> RuntimeConfig:
    """The agent's configuration in `root/config`, with checks that run with this interpreter."""
    python = sys.executable
    default_checks = (
        f'[[developer.checks]]\nname = "ruff check"\ncommand = "{python} -m ruff check --no-cache"\nfiles = "changed-python"\n\n'
        f'[[developer.checks]]\nname = "pytest"\ncommand = "{python} -m pytest -q -p no:cacheprovider"\ntimeout_s = 120\n'
    )
    config = root / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "agents.toml").write_text(
        f'[developer]\nmodel = "{model}"\ntemperature = 0.1\nmax_answer_tokens = 4000\n'
        'system_prompt = """You are the Developer."""\n' + developer + "\n" + (default_checks if checks is None else checks)
    )
    (config / "domain.toml").write_text(
        '[domain]\nname = "e-commerce"\ntitle = "E-commerce"\nconventions = ["Money is Decimal"]\n'
    )
    return load_config(root)


def with_this_python(environment: Mapping[str, str] | None) -> dict[str, str]:
    source = dict(os.environ if environment is None else environment)
    source["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{source.get('PATH', '')}"
    return source


@dataclass
class DeveloperRun:
    """One Developer run's inputs: the checkout, the proposal folder, the fakes."""

    checkout: Path
    out: Path
    github: FakeGitHub
    github_url: str
    settings: Settings

    def agent(self, llm: LLMProvider, config: RuntimeConfig, agent_class: type[DeveloperAgent] = DeveloperAgent) -> Any:
        client = GitHubClient(TokenAuth("read-only-token"), base_url=self.github_url, sleep=lambda _s: None)
        return agent_class(repository=REPOSITORY, settings=self.settings, config=config, store=None, github=client, llm=llm)

    def run(self, llm: LLMProvider, config: RuntimeConfig, environment: Mapping[str, str] | None = None) -> Any:
        """Run the agent on issue 7; the model's `python` is this interpreter, as in an activated venv."""
        return self.agent(llm, config).run(7, checkout=self.checkout, out=self.out, environment=with_this_python(environment))

    def patch(self) -> str:
        return (self.out / "change.patch").read_text()


def ready_issue(github: FakeGitHub) -> None:
    github.add_issue(
        7,
        "Discounts raise the price",
        "apply_discount adds the percentage instead of taking it off.",
        labels=("ready-for-dev",),
    )
    github.comments[7].append(
        {
            "id": 501,
            "body": "This issue is ready for development. Refined description:\n\n- [ ] apply_discount(100, 10) == 90",
            "user": {"login": "hello-bot[bot]", "type": "Bot"},
        }
    )
