"""The tools the Developer model calls: bash, search, view, str_replace, create_file and finish.

`bash` alone is enough to explore, edit and test; the others are safer and cheaper ways to do the
common things: ranked search with line numbers, paged file views, exact-match edits that fail loudly
when the text is not there exactly once, and new files that never overwrite an existing one. No tool
rewrites a whole existing file from the model's memory.

A hostile or confused model is bad input, never a crash: an unknown tool, arguments that are not a
JSON object, a missing or mistyped parameter, a path outside the checkout or inside `.git` all come
back as an error result that names the problem and what is valid. Every result is capped at
`max_output_chars`, and every edit refreshes the retrieval index for the files it touched.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..llm.base import ToolCall, ToolResult, ToolSpec
from .retrieval import BINARY_SNIFF_BYTES, RepositoryIndex, git_changed_paths
from .workspace import Workspace, fit_output

VIEW_PAGE_LINES = 250
MAX_VIEW_LINE_CHARS = 2000
MAX_LISTING_ENTRIES = 300
EDIT_CONTEXT_LINES = 4
MAX_MATCH_LINES_LISTED = 10
SEARCH_LIMIT = 10
MAX_FILE_BYTES = 10_000_000  # view and str_replace read whole files; bigger ones are for bash


@dataclass(frozen=True)
class Finish:
    """The model says it is done: what it changed and why, and an optional pull request title."""

    summary: str
    title: str | None


@dataclass(frozen=True)
class ToolOutcome:
    result: ToolResult
    finish: Finish | None = None
    touched_paths: tuple[str, ...] = ()  # repository-relative files the tool changed


class ToolError(Exception):
    """A tool call that cannot be carried out; its message goes back to the model as an error result."""


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "string" or "integer"
    description: str
    required: bool = True


@dataclass(frozen=True)
class ToolDefinition:
    name: str
    description: str
    parameters: tuple[Parameter, ...]

    def spec(self) -> ToolSpec:
        return ToolSpec(
            name=self.name,
            description=self.description,
            parameters={
                "type": "object",
                "properties": {
                    parameter.name: {"type": parameter.kind, "description": parameter.description}
                    for parameter in self.parameters
                },
                "required": [parameter.name for parameter in self.parameters if parameter.required],
                "additionalProperties": False,
            },
        )

    def usage(self) -> str:
        described = [f"{p.name} ({p.kind}{', required' if p.required else ''})" for p in self.parameters]
        return f"`{self.name}` takes {', '.join(described)}"


def tool_definitions(timeout_seconds: float, max_output_chars: int) -> tuple[ToolDefinition, ...]:
    path = Parameter("path", "string", "A path relative to the repository root, e.g. `src/app/models.py`.")
    return (
        ToolDefinition(
            "bash",
            f"Run a bash command in the repository root and get its exit code, stdout and stderr. Use it to explore "
            f"(ls, grep -rn, git log), edit (sed, python scripts) and run tests. Non-interactive: stdin is empty. "
            f"Each command runs on its own (cd and variables do not carry over) with a {timeout_seconds:g} s timeout; "
            f"processes it leaves in the background are killed when it ends. Output beyond {max_output_chars} "
            f"characters is cut in the middle. No secrets are in the environment.",
            (Parameter("command", "string", "The bash command to run, e.g. `python -m pytest -q tests/test_cart.py`."),),
        ),
        ToolDefinition(
            "search",
            "Ranked search of the repository's file contents: the files best matching the words and identifiers of "
            "the query (exact identifiers such as `apply_discount` or `CartService` weigh most), each with its best "
            "matching lines and their numbers. For an exact string or a regular expression, use bash with grep -rn.",
            (
                Parameter("query", "string", "Words and identifiers describing what you look for."),
                Parameter(
                    "path_glob",
                    "string",
                    "Only files matching this pattern, e.g. `*.py` or `src/billing/*` (`*` also matches `/`).",
                    required=False,
                ),
            ),
        ),
        ToolDefinition(
            "view",
            f"Show a file with line numbers, {VIEW_PAGE_LINES} lines at a time (the end of the output says how to see "
            "more), or list a folder. Use the numbered lines to copy exact text for str_replace.",
            (
                path,
                Parameter("start_line", "integer", "First line to show, counting from 1 (default 1).", required=False),
                Parameter("end_line", "integer", "Last line to show; -1 means the end of the file.", required=False),
            ),
        ),
        ToolDefinition(
            "str_replace",
            "Replace one exact occurrence of `old_str` in a file with `new_str`. `old_str` must match the file exactly, "
            "whitespace and indentation included, and occur exactly once: otherwise nothing changes and the error says "
            "how many matches there are and where. Include enough surrounding lines to make it unique. To delete text, "
            "give an empty `new_str`. The result shows the edited lines with their numbers.",
            (
                path,
                Parameter("old_str", "string", "The exact text to replace; it must occur exactly once."),
                Parameter("new_str", "string", "The text to put in its place."),
            ),
        ),
        ToolDefinition(
            "create_file",
            "Create a NEW file with the given content (missing folders are made). It refuses a path that already "
            "exists: change existing files with str_replace.",
            (path, Parameter("content", "string", "The whole content of the new file.")),
        ),
        ToolDefinition(
            "finish",
            "Say you are done. The runtime then runs the repository's checks (tests, linters); if one fails you get its "
            "output and can keep working. Call it once the change is complete and its tests pass.",
            (
                Parameter("summary", "string", "What you changed and why, for the pull request description."),
                Parameter("title", "string", "A short pull request title.", required=False),
            ),
        ),
    )


@dataclass
class Reply:
    content: str
    touched_paths: tuple[str, ...] = ()
    finish: Finish | None = None
    is_error: bool = False


class ToolBox:
    """The tools offered to the model, run against one workspace and its retrieval index."""

    def __init__(self, workspace: Workspace, index: RepositoryIndex, *, max_output_chars: int) -> None:
        self.workspace = workspace
        self.index = index
        self.max_output_chars = max_output_chars
        self.root = workspace.root
        self.definitions = {
            definition.name: definition for definition in tool_definitions(workspace.command_timeout_seconds, max_output_chars)
        }
        self.handlers: dict[str, Callable[[dict[str, Any]], Reply]] = {
            "bash": self._bash,
            "search": self._search,
            "view": self._view,
            "str_replace": self._str_replace,
            "create_file": self._create_file,
            "finish": self._finish,
        }
        # Paths git has ever shown as changed: a file edited and then restored no longer shows, yet must be re-read.
        self.seen_changed_paths: set[str] = set()

    def specs(self) -> list[ToolSpec]:
        return [definition.spec() for definition in self.definitions.values()]

    def execute(self, call: ToolCall) -> ToolOutcome:
        try:
            definition = self.definitions.get(call.name)
            if definition is None:
                raise ToolError(f"unknown tool `{call.name}`; the tools are: {', '.join(self.definitions)}")
            reply = self.handlers[call.name](parse_arguments(call.arguments, definition))
        except ToolError as error:
            reply = Reply(str(error), is_error=True)
        except (OSError, UnicodeError, ValueError, subprocess.SubprocessError) as error:
            reply = Reply(f"`{call.name}` failed: {error.__class__.__name__}: {error}", is_error=True)
        content, _ = fit_output(reply.content, "", 0, self.max_output_chars)
        result = ToolResult(call_id=call.id, name=call.name, content=content, is_error=reply.is_error)
        return ToolOutcome(result, reply.finish, reply.touched_paths)

    # -- the tools -------------------------------------------------------------------------------
    def _bash(self, arguments: dict[str, Any]) -> Reply:
        command = arguments["command"]
        if not command.strip():
            raise ToolError("`command` is empty: give a bash command to run")
        result = self.workspace.run(command)
        touched = self._refresh_changed_files()
        return Reply(result.for_model(), touched, is_error=result.timed_out)

    def _search(self, arguments: dict[str, Any]) -> Reply:
        query, path_glob = arguments["query"], arguments.get("path_glob")
        hits = self.index.search(query, limit=SEARCH_LIMIT, path_glob=path_glob)
        where = f" in files matching `{path_glob}`" if path_glob else ""
        if not hits:
            return Reply(f"no file matches `{query}`{where}; try other words, or grep -rn through bash")
        lines = [f"{len(hits)} best matches for `{query}`{where}:"]
        for hit in hits:
            lines.append(f"{hit.path} (score {hit.score:g})")
            lines += [f"  {number}: {text}" for number, text in hit.lines]
        return Reply("\n".join(lines))

    def _view(self, arguments: dict[str, Any]) -> Reply:
        relative, full = self._resolve(arguments["path"], allow_root=True)
        if full.is_dir():
            return Reply(self._listing(relative, full))
        if not full.is_file():
            raise ToolError(f"`{relative}` does not exist; list its folder with view or find it with search")
        data = read_bounded(relative, full)
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            return Reply(f"`{relative}` is a binary file ({len(data)} bytes): not shown; inspect it with bash if needed")
        return Reply(self._page(relative, data.decode("utf-8", "replace"), arguments))

    def _str_replace(self, arguments: dict[str, Any]) -> Reply:
        relative, full = self._resolve(arguments["path"])
        old, new = arguments["old_str"], arguments["new_str"]
        if not old:
            raise ToolError("`old_str` is empty: to insert text, put a neighbouring line in both old_str and new_str")
        if old == new:
            raise ToolError("`old_str` and `new_str` are the same: nothing to change")
        text = read_editable_text(relative, full)
        positions = occurrences(text, old)
        if not positions:
            raise ToolError(no_match_message(relative, text, old))
        if len(positions) > 1:
            at_lines = [line_number(text, position) for position in positions[:MAX_MATCH_LINES_LISTED]]
            more = " and more" if len(positions) > MAX_MATCH_LINES_LISTED else ""
            raise ToolError(
                f"`old_str` occurs {len(positions)} times in `{relative}` (at lines {', '.join(map(str, at_lines))}{more}): "
                "no change made. Include more surrounding lines so that it matches exactly once."
            )
        position = positions[0]
        edited = text[:position] + new + text[position + len(old) :]
        full.write_bytes(edited.encode("utf-8"))
        self.index.refresh([relative])
        first = line_number(edited, position)
        last = first + new.count("\n")
        snippet = numbered_lines(edited, first - EDIT_CONTEXT_LINES, last + EDIT_CONTEXT_LINES)
        return Reply(
            f"Edited `{relative}`: the match at line {first} was replaced. Lines around the edit now:\n{snippet}\n"
            "Check that this is what you meant; make another str_replace if not.",
            (relative,),
        )

    def _create_file(self, arguments: dict[str, Any]) -> Reply:
        relative, full = self._resolve(arguments["path"])
        if full.exists() or full.is_symlink():
            kind = "a folder" if full.is_dir() else "a file"
            raise ToolError(f"`{relative}` already exists ({kind}): change an existing file with str_replace")
        content = arguments["content"]
        full.parent.mkdir(parents=True, exist_ok=True)
        with full.open("xb") as new_file:
            new_file.write(content.encode("utf-8"))
        self.index.refresh([relative])
        line_count = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        return Reply(f"Created `{relative}` ({line_count} lines).", (relative,))

    def _finish(self, arguments: dict[str, Any]) -> Reply:
        summary, title = arguments["summary"].strip(), (arguments.get("title") or "").strip()
        if not summary:
            raise ToolError("`summary` is empty: say what you changed and why")
        return Reply("Finishing: the runtime now runs the repository's checks.", finish=Finish(summary, title or None))

    # -- steps ------------------------------------------------------------------------------------
    def _resolve(self, raw: str, *, allow_root: bool = False) -> tuple[str, Path]:
        """A model-given path as (repository-relative posix path, absolute path), or a ToolError saying why not."""
        if not raw.strip() or "\0" in raw:
            raise ToolError("`path` is empty or not a plain path: give a path relative to the repository root")
        pure = PurePosixPath(raw)
        if pure.is_absolute() or raw.startswith("~") or re.match(r"^[A-Za-z]:[\\/]", raw):
            raise ToolError(f"`{raw}` is absolute: give a path relative to the repository root, e.g. `src/app.py`")
        if ".." in pure.parts:
            raise ToolError(f"`{raw}` uses `..`: paths must stay inside the repository")
        resolved = (self.root / pure).resolve()
        if not resolved.is_relative_to(self.root):
            raise ToolError(f"`{raw}` resolves outside the repository (through a symbolic link): refused")
        relative = resolved.relative_to(self.root).as_posix()
        if ".git" in pure.parts or ".git" in PurePosixPath(relative).parts:
            raise ToolError(f"`{raw}` is inside `.git`: git's own files are off limits; use git commands through bash")
        if relative == "." and not allow_root:
            raise ToolError("`path` names the repository root: give a file path")
        return relative, resolved

    def _listing(self, relative: str, folder: Path) -> str:
        entries = sorted(
            (entry for entry in folder.iterdir() if entry.name != ".git"),
            key=lambda entry: (not entry.is_dir(), entry.name),
        )
        names = [entry.name + ("/" if entry.is_dir() else "") for entry in entries[:MAX_LISTING_ENTRIES]]
        shown = "\n".join(names) if names else "(empty folder)"
        more = (
            f"\n[{len(entries) - MAX_LISTING_ENTRIES} more entries not shown: use bash ls]" if len(entries) > len(names) else ""
        )
        return f"`{relative}/` has {len(entries)} entries:\n{shown}{more}"

    def _page(self, relative: str, text: str, arguments: dict[str, Any]) -> str:
        lines = split_lines(text)
        if not lines:
            return f"`{relative}` is empty (0 lines)"
        start = arguments.get("start_line") or 1
        end = arguments.get("end_line")
        if not 1 <= start <= len(lines):
            raise ToolError(f"start_line {start} is outside `{relative}`, which has {len(lines)} lines")
        last = len(lines) if end == -1 else min(len(lines), end or start + VIEW_PAGE_LINES - 1)
        if last < start:
            raise ToolError(f"end_line {end} is before start_line {start}; use -1 for the end of the file")
        budget = self.max_output_chars - 300
        shown: list[str] = []
        used = 0
        for number in range(start, last + 1):
            line = numbered_line(number, lines[number - 1])
            if shown and used + len(line) + 1 > budget:
                break
            shown.append(line)
            used += len(line) + 1
        shown_last = start + len(shown) - 1
        header = f"`{relative}`: lines {start}-{shown_last} of {len(lines)}"
        footer = ""
        if shown_last < len(lines):
            footer = f"\n[more below: view with start_line={shown_last + 1} to continue]"
        return f"{header}\n" + "\n".join(shown) + footer

    def _refresh_changed_files(self) -> tuple[str, ...]:
        """After a command: re-read the files it changed (as git sees them) and return those paths."""
        self.seen_changed_paths.update(git_changed_paths(self.root, self.workspace.environment))
        stale = self.index.stale(sorted(self.seen_changed_paths))
        self.index.refresh(stale)
        return tuple(stale)


def parse_arguments(raw: str, definition: ToolDefinition) -> dict[str, Any]:
    """The call's arguments checked against the tool's parameters; a ToolError naming what is wrong otherwise."""
    try:
        arguments = json.loads(raw.strip() or "{}") if isinstance(raw, str) else raw
    except json.JSONDecodeError as error:
        raise ToolError(
            f"the arguments of `{definition.name}` are not valid JSON ({error.msg} at character {error.pos}); "
            f"send one JSON object. {definition.usage()}"
        ) from None
    except RecursionError:
        raise ToolError(f"the arguments of `{definition.name}` nest too deeply. {definition.usage()}") from None
    if not isinstance(arguments, dict):
        raise ToolError(
            f"the arguments of `{definition.name}` must be a JSON object, not {type(arguments).__name__}. {definition.usage()}"
        )
    known = {parameter.name: parameter for parameter in definition.parameters}
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        raise ToolError(f"unknown parameter {', '.join(f'`{name}`' for name in unknown)}. {definition.usage()}")
    for parameter in definition.parameters:
        value = arguments.get(parameter.name)
        if value is None:
            if parameter.required:
                raise ToolError(f"missing required parameter `{parameter.name}`. {definition.usage()}")
            arguments.pop(parameter.name, None)
            continue
        arguments[parameter.name] = checked_value(definition, parameter, value)
    return arguments


def checked_value(definition: ToolDefinition, parameter: Parameter, value: Any) -> Any:
    if parameter.kind == "string" and isinstance(value, str):
        return value
    if parameter.kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if parameter.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    article = "an" if parameter.kind == "integer" else "a"
    raise ToolError(
        f"parameter `{parameter.name}` must be {article} {parameter.kind}, "
        f"got {type(value).__name__} {json.dumps(value)[:80]}. "
        f"{definition.usage()}"
    )


def read_editable_text(relative: str, full: Path) -> str:
    if not full.is_file():
        raise ToolError(f"`{relative}` does not exist (or is not a file); create new files with create_file")
    try:
        return read_bounded(relative, full).decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"`{relative}` is not UTF-8 text: str_replace cannot edit it safely; use bash") from None


def read_bounded(relative: str, full: Path) -> bytes:
    size = full.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ToolError(f"`{relative}` is too large for this tool ({size} bytes): use bash, e.g. `sed -n '1,100p' {relative}`")
    return full.read_bytes()


def occurrences(text: str, needle: str) -> list[int]:
    """Start positions of every occurrence, overlapping ones included."""
    positions = []
    position = text.find(needle)
    while position != -1:
        positions.append(position)
        position = text.find(needle, position + 1)
    return positions


def no_match_message(relative: str, text: str, old: str) -> str:
    message = (
        f"`old_str` was not found in `{relative}`: no change made. It must match exactly, whitespace and "
        "indentation included; view the file and copy the lines."
    )
    if "\r\n" in text and "\r" not in old and old.replace("\n", "\r\n") in text:
        message += " The file uses CRLF line endings: put \\r\\n in old_str and new_str."
    elif old.strip() and old.strip() in text:
        message += " The text occurs with different leading or trailing whitespace."
    return message


def split_lines(text: str) -> list[str]:
    """Lines as editors and `sed` count them: split on newlines only."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def line_number(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def numbered_line(number: int, line: str) -> str:
    if len(line) > MAX_VIEW_LINE_CHARS:
        line = line[:MAX_VIEW_LINE_CHARS] + f" [... {len(line) - MAX_VIEW_LINE_CHARS} more characters on this line]"
    return f"{number:6}\t{line}"


def numbered_lines(text: str, first: int, last: int) -> str:
    lines = split_lines(text)
    first, last = max(1, first), min(len(lines), last)
    return "\n".join(numbered_line(number, lines[number - 1]) for number in range(first, last + 1))
