"""The Developer's tool box against real files and processes in a temporary git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from osorganicai.developer.retrieval import RepositoryIndex
from osorganicai.developer.tools import ToolBox, ToolOutcome
from osorganicai.developer.workspace import Workspace
from osorganicai.llm.base import ToolCall

MAX_OUTPUT_CHARS = 6000
TOOL_NAMES = ["bash", "search", "view", "str_replace", "create_file", "finish"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src/cart.py").write_text(
        '"""Shopping cart totals."""\n\n\ndef apply_discount(price, percentage):\n'
        "    return price * (100 - percentage) // 100\n\n\ndef total(prices):\n    return sum(prices)\n"
    )
    (root / "src/repeated.py").write_text("value = 1\nother = 2\nvalue = 1\n")
    (root / "README.md").write_text("# Demo\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


@pytest.fixture
def toolbox(repository: Path) -> ToolBox:
    workspace = Workspace(
        repository, command_timeout_seconds=20, max_output_chars=MAX_OUTPUT_CHARS, environment={"PATH": "/usr/bin:/bin"}
    )
    return ToolBox(workspace, RepositoryIndex.build(repository), max_output_chars=MAX_OUTPUT_CHARS)


def call(toolbox: ToolBox, name: str, arguments: dict | str) -> ToolOutcome:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    outcome = toolbox.execute(ToolCall(id="call-1", name=name, arguments=raw))
    assert (outcome.result.call_id, outcome.result.name) == ("call-1", name)
    assert len(outcome.result.content) <= MAX_OUTPUT_CHARS
    return outcome


def test_specs_are_strict_json_schemas_with_bash_taking_one_command(toolbox: ToolBox) -> None:
    specs = {spec.name: spec for spec in toolbox.specs()}

    assert list(specs) == TOOL_NAMES
    bash = specs["bash"].parameters
    assert (bash["type"], list(bash["properties"]), bash["required"]) == ("object", ["command"], ["command"])
    assert bash["properties"]["command"]["type"] == "string" and bash["properties"]["command"]["description"]
    assert "20 s timeout" in specs["bash"].description and f"{MAX_OUTPUT_CHARS} characters" in specs["bash"].description
    for spec in specs.values():
        assert spec.parameters["additionalProperties"] is False
        assert set(spec.parameters["required"]) <= set(spec.parameters["properties"])
    assert specs["view"].parameters["required"] == ["path"]
    assert specs["finish"].parameters["required"] == ["summary"]


def test_bash_alone_explores_edits_and_tests(toolbox: ToolBox, repository: Path) -> None:
    listing = call(toolbox, "bash", {"command": "ls src && grep -n apply_discount src/cart.py"})
    assert "cart.py" in listing.result.content and "4:def apply_discount" in listing.result.content

    edit = call(toolbox, "bash", {"command": "sed -i 's/100 - percentage/100 - percentage + 0/' src/cart.py && echo done"})
    assert edit.result.content.startswith("exit code: 0") and edit.touched_paths == ("src/cart.py",)
    assert toolbox.index.search("percentage")[0].lines[-1] == (5, "    return price * (100 - percentage + 0) // 100")

    check = call(
        toolbox,
        "bash",
        {"command": "python3 -c 'import sys; sys.path.insert(0, \"src\"); import cart; print(cart.total([1, 2]))'"},
    )
    assert "stdout:\n3" in check.result.content and not check.result.is_error
    failing = call(toolbox, "bash", {"command": "exit 4"})
    assert failing.result.content.startswith("exit code: 4") and not failing.result.is_error


def test_bash_timeout_is_an_error_result(repository: Path) -> None:
    workspace = Workspace(repository, command_timeout_seconds=0.5, max_output_chars=MAX_OUTPUT_CHARS, environment={})
    toolbox = ToolBox(workspace, RepositoryIndex.build(repository), max_output_chars=MAX_OUTPUT_CHARS)

    outcome = call(toolbox, "bash", {"command": "sleep 30"})

    assert outcome.result.is_error and outcome.result.content.startswith("timed out after")


def test_search_gives_ranked_files_with_line_numbers(toolbox: ToolBox) -> None:
    outcome = call(toolbox, "search", {"query": "apply_discount percentage"})

    assert outcome.result.content.splitlines()[1].startswith("src/cart.py (score ")
    assert "  4: def apply_discount(price, percentage):" in outcome.result.content
    assert "no file matches" in call(toolbox, "search", {"query": "apply_discount", "path_glob": "*.md"}).result.content


def test_view_pages_long_files_and_lists_folders(toolbox: ToolBox, repository: Path) -> None:
    (repository / "long.txt").write_text("".join(f"line {number}\n" for number in range(1, 601)))

    first = call(toolbox, "view", {"path": "long.txt"}).result.content
    assert first.startswith("`long.txt`: lines 1-250 of 600\n     1\tline 1\n")
    assert first.endswith("   250\tline 250\n[more below: view with start_line=251 to continue]")
    window = call(toolbox, "view", {"path": "long.txt", "start_line": 590, "end_line": -1}).result.content
    assert window == "`long.txt`: lines 590-600 of 600\n" + "\n".join(f"{n:6}\tline {n}" for n in range(590, 601))
    bad = call(toolbox, "view", {"path": "long.txt", "start_line": 700})
    assert bad.result.is_error and "600 lines" in bad.result.content

    folder = call(toolbox, "view", {"path": "."}).result.content
    assert folder.splitlines() == ["`./` has 3 entries:", "src/", "README.md", "long.txt"]
    assert ".git" not in folder


def test_view_of_a_huge_file_is_capped_and_says_where_to_continue(toolbox: ToolBox, repository: Path) -> None:
    (repository / "wide.txt").write_text("".join(f"{number} " + "x" * 100 + "\n" for number in range(1, 201)))

    content = call(toolbox, "view", {"path": "wide.txt"}).result.content

    assert len(content) <= MAX_OUTPUT_CHARS
    shown_last = int(content.splitlines()[-2].split("\t")[0])
    assert content.endswith(f"[more below: view with start_line={shown_last + 1} to continue]")


def test_str_replace_with_no_match_changes_nothing_and_says_so(toolbox: ToolBox, repository: Path) -> None:
    before = (repository / "src/cart.py").read_bytes()
    outcome = call(toolbox, "str_replace", {"path": "src/cart.py", "old_str": "return price * 2", "new_str": "x"})

    assert outcome.result.is_error and "was not found in `src/cart.py`" in outcome.result.content
    assert (repository / "src/cart.py").read_bytes() == before and outcome.touched_paths == ()


def test_str_replace_with_several_matches_names_their_lines(toolbox: ToolBox, repository: Path) -> None:
    outcome = call(toolbox, "str_replace", {"path": "src/repeated.py", "old_str": "value = 1", "new_str": "value = 3"})

    assert outcome.result.is_error
    assert "occurs 2 times in `src/repeated.py` (at lines 1, 3)" in outcome.result.content
    assert (repository / "src/repeated.py").read_text() == "value = 1\nother = 2\nvalue = 1\n"


def test_str_replace_with_one_match_edits_and_shows_numbered_lines(toolbox: ToolBox, repository: Path) -> None:
    outcome = call(
        toolbox,
        "str_replace",
        {"path": "src/cart.py", "old_str": "    return sum(prices)\n", "new_str": "    return sum(prices, 0)\n"},
    )

    assert not outcome.result.is_error and outcome.touched_paths == ("src/cart.py",)
    assert "Edited `src/cart.py`: the match at line 9 was replaced" in outcome.result.content
    assert "     9\t    return sum(prices, 0)" in outcome.result.content
    assert "     8\tdef total(prices):" in outcome.result.content
    assert (repository / "src/cart.py").read_text().endswith("def total(prices):\n    return sum(prices, 0)\n")
    assert toolbox.index.search("prices")[0].lines[-1] == (9, "    return sum(prices, 0)")


def test_a_one_line_edit_in_a_three_thousand_line_file_leaves_every_other_line_byte_identical(
    toolbox: ToolBox, repository: Path
) -> None:
    # Mixed endings, trailing spaces, tabs, non-ASCII and no final newline: all must survive untouched.
    lines = [f"line {n}\twith tab  \r\n" if n % 7 == 0 else f"línea {n} ünïcode   \n" for n in range(1, 3001)]
    lines[1499] = "TARGET = 'old'\n"
    lines[-1] = lines[-1].rstrip("\n")
    original = "".join(lines).encode()
    (repository / "big.py").write_bytes(original)

    outcome = call(toolbox, "str_replace", {"path": "big.py", "old_str": "TARGET = 'old'", "new_str": "TARGET = 'new'"})

    assert not outcome.result.is_error
    after = (repository / "big.py").read_bytes().split(b"\n")
    before = original.split(b"\n")
    assert len(after) == len(before)
    changed = [number for number, (old, new) in enumerate(zip(before, after, strict=True), start=1) if old != new]
    assert changed == [1500] and after[1499] == b"TARGET = 'new'"


def test_create_file_makes_new_files_and_refuses_existing_ones(toolbox: ToolBox, repository: Path) -> None:
    created = call(toolbox, "create_file", {"path": "tests/unit/test_cart.py", "content": "def test_ok():\n    pass\n"})
    assert not created.result.is_error and created.touched_paths == ("tests/unit/test_cart.py",)
    assert (repository / "tests/unit/test_cart.py").read_text() == "def test_ok():\n    pass\n"
    assert "Created `tests/unit/test_cart.py` (2 lines)" in created.result.content
    assert [hit.path for hit in toolbox.index.search("test_ok")] == ["tests/unit/test_cart.py"]

    refused = call(toolbox, "create_file", {"path": "src/cart.py", "content": "everything replaced"})
    assert refused.result.is_error and "already exists" in refused.result.content and "str_replace" in refused.result.content
    assert "apply_discount" in (repository / "src/cart.py").read_text()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/etc/passwd", "is absolute"),
        ("~/notes.txt", "is absolute"),
        ("../outside.txt", "uses `..`"),
        ("src/../../outside.txt", "uses `..`"),
        (".git/config", "inside `.git`"),
        ("src/.git/hooks/pre-commit", "inside `.git`"),
        ("escape/secret.txt", "resolves outside the repository"),
        ("gitlink/config", "inside `.git`"),
        ("", "empty"),
    ],
)
def test_paths_that_escape_the_repository_are_refused(toolbox: ToolBox, repository: Path, path: str, expected: str) -> None:
    outside = repository.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("secret\n")
    (repository / "escape").symlink_to(outside)
    (repository / "gitlink").symlink_to(repository / ".git")

    for name, arguments in (
        ("view", {"path": path}),
        ("str_replace", {"path": path, "old_str": "secret", "new_str": "changed"}),
        ("create_file", {"path": path, "content": "x"}),
    ):
        outcome = call(toolbox, name, arguments)
        assert outcome.result.is_error and expected in outcome.result.content, (name, outcome.result.content)
    assert (outside / "secret.txt").read_text() == "secret\n"
    assert not (repository.parent / "outside.txt").exists()


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("rm_rf", "{}", "unknown tool `rm_rf`; the tools are: bash, search, view, str_replace, create_file, finish"),
        ("bash", "{not json", "are not valid JSON"),
        ("bash", '["ls"]', "must be a JSON object, not list"),
        ("bash", "{}", "missing required parameter `command`"),
        ("bash", '{"command": 42}', "parameter `command` must be a string, got int 42"),
        ("bash", '{"command": "ls", "cwd": "/"}', "unknown parameter `cwd`"),
        ("view", '{"path": "README.md", "start_line": "1"}', "parameter `start_line` must be an integer"),
        ("view", '{"path": "README.md", "start_line": true}', "must be an integer, got bool"),
        ("str_replace", '{"path": "README.md", "old_str": "# Demo"}', "missing required parameter `new_str`"),
        ("finish", '{"summary": "   "}', "`summary` is empty"),
        ("bash", "", "missing required parameter `command`"),
    ],
)
def test_malformed_calls_are_error_results_naming_the_problem(toolbox: ToolBox, name: str, arguments: str, expected: str) -> None:
    outcome = call(toolbox, name, arguments)

    assert outcome.result.is_error and expected in outcome.result.content
    assert outcome.finish is None
    if name in TOOL_NAMES:
        assert f"`{name}` takes" in outcome.result.content or "empty" in outcome.result.content


def test_finish_carries_summary_and_optional_title(toolbox: ToolBox) -> None:
    done = call(toolbox, "finish", {"summary": "Round discounts to the cent.", "title": "Fix discount rounding"})
    assert done.finish is not None and (done.finish.summary, done.finish.title) == (
        "Round discounts to the cent.",
        "Fix discount rounding",
    )
    untitled = call(toolbox, "finish", {"summary": "Done.", "title": None})
    assert untitled.finish is not None and untitled.finish.title is None


def test_every_result_is_capped(toolbox: ToolBox, repository: Path) -> None:
    (repository / "one_line.txt").write_text("y" * 50_000 + "\n")

    outcome = call(toolbox, "view", {"path": "one_line.txt"})

    assert "more characters on this line" in outcome.result.content
    assert len(call(toolbox, "bash", {"command": "seq 1 100000"}).result.content) <= MAX_OUTPUT_CHARS


def test_the_index_follows_files_changed_and_restored_through_bash(toolbox: ToolBox) -> None:
    changed = call(toolbox, "bash", {"command": "echo 'def zebra_crossing(): pass' >> src/cart.py && echo new > notes.txt"})
    assert set(changed.touched_paths) == {"src/cart.py", "notes.txt"}
    assert [hit.path for hit in toolbox.index.search("zebra_crossing")] == ["src/cart.py"]

    restored = call(toolbox, "bash", {"command": "git checkout -- src/cart.py && rm notes.txt"})
    assert set(restored.touched_paths) == {"src/cart.py", "notes.txt"}
    assert toolbox.index.search("zebra_crossing") == [] and "notes.txt" not in toolbox.index.files
    assert call(toolbox, "bash", {"command": "true"}).touched_paths == ()


def test_view_says_what_it_cannot_show(toolbox: ToolBox, repository: Path) -> None:
    (repository / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")

    assert "is a binary file (11 bytes)" in call(toolbox, "view", {"path": "logo.png"}).result.content
    missing = call(toolbox, "view", {"path": "src/nowhere.py"})
    assert missing.result.is_error and "`src/nowhere.py` does not exist" in missing.result.content
    call(toolbox, "bash", {"command": "touch empty.txt"})
    assert call(toolbox, "view", {"path": "empty.txt"}).result.content == "`empty.txt` is empty (0 lines)"


def test_files_too_large_for_view_and_str_replace_point_to_bash(toolbox: ToolBox, repository: Path) -> None:
    with (repository / "huge.log").open("wb") as huge:
        huge.truncate(10_000_001)

    for name, arguments in (
        ("view", {"path": "huge.log"}),
        ("str_replace", {"path": "huge.log", "old_str": "a", "new_str": "b"}),
    ):
        outcome = call(toolbox, name, arguments)
        assert outcome.result.is_error and "too large for this tool (10000001 bytes): use bash" in outcome.result.content
