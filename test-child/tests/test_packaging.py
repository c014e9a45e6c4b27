"""The deployment's dependency lists agree: Vercel reads pyproject.toml, the workflows requirements.txt."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith(("#", "-r"))]


def test_pyproject_dependencies_match_requirements_txt():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["dependencies"] == requirement_lines(ROOT / "requirements.txt")


def test_requirements_txt_has_no_llm_sdk():
    names = {line.split("[")[0].split(">")[0].split("=")[0].lower() for line in requirement_lines(ROOT / "requirements.txt")}
    assert {"fastapi", "psycopg", "httpx"} <= names
    assert not names & {"openai", "anthropic", "langchain"}
