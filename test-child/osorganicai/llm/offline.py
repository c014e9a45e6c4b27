"""A deterministic provider that calls no model, so a child runs end to end without a key.

Its output is labelled as offline wherever it reaches GitHub. The Product Owner asks for
clarification while an issue is too thin (short and without acceptance criteria, and nobody
has answered yet) and otherwise writes a refined description from the issue and the replies;
the Developer writes one small module and its test, named after the issue: in one structured
answer (`complete`), or as a fixed tool-calling script of shell commands (`complete_with_tools`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .base import AssistantTurn, LLMError, LLMRequest, LLMResponse, ToolCall, ToolRequest, ToolResponse, ToolResultsTurn, Turn

OFFLINE_LABEL = "offline provider: deterministic output, no language model was called"
MIN_WORDS = 25
QUESTIONS = (
    "What should happen, step by step, from the user's point of view?",
    "How will we know it is done? Please list acceptance criteria.",
    "Are there constraints we must respect (data, security, performance, compatibility)?",
)


class OfflineProvider:
    name = "offline"

    def complete(self, request: LLMRequest) -> LLMResponse:
        if request.schema_name == "product_owner_analysis":
            payload = self._product_owner(request)
        elif request.schema_name == "developer_change":
            payload = self._developer(request)
        else:
            raise LLMError(f"offline: no deterministic answer for schema {request.schema_name!r}")
        text = json.dumps(payload)
        words = sum(len(message.content.split()) for message in request.messages)
        return LLMResponse(text=text, input_tokens=words, output_tokens=len(text.split()), model="offline")

    def _product_owner(self, request: LLMRequest) -> dict[str, object]:
        meta = request.metadata
        title = str(meta.get("issue_title", "")).strip()
        body = str(meta.get("issue_body", "")).strip()
        replies = [str(reply) for reply in meta.get("user_replies", [])]
        has_criteria = bool(re.search(r"acceptance criteria|- \[ \]|\bgiven\b.*\bwhen\b", body, re.I | re.S))
        if not replies and not has_criteria and len((title + " " + body).split()) < MIN_WORDS:
            return {
                "needs_clarification": True,
                "questions": list(QUESTIONS),
                "refined_description": "",
                "is_complete": False,
            }
        parts = [f"## {title or 'Issue'}", "", body or "(no description given)"]
        if replies:
            parts += ["", "### Answers from the discussion", *[f"- {reply}" for reply in replies]]
        parts += ["", f"_Refined by the {OFFLINE_LABEL}._"]
        return {
            "needs_clarification": False,
            "questions": [],
            "refined_description": "\n".join(parts),
            "is_complete": True,
        }

    def _developer(self, request: LLMRequest) -> dict[str, object]:
        scaffold = Scaffold.for_issue(request.metadata)
        return {
            "summary": scaffold.summary,
            "files": [
                {"path": "src/features/__init__.py", "content": ""},
                {"path": scaffold.module_path, "content": scaffold.source},
            ],
            "tests": [{"path": scaffold.test_path, "content": scaffold.test}],
        }

    def complete_with_tools(self, request: ToolRequest) -> ToolResponse:
        """The Developer as a fixed script, one step per assistant turn so far: look around, write the
        module, write its test, then `finish` (again after every failed check, until the loop stops)."""
        offered = {tool.name for tool in request.tools}
        if not {"bash", "finish"} <= offered:
            raise LLMError(f"offline: the Developer script needs the `bash` and `finish` tools, offered: {sorted(offered)}")
        scaffold = Scaffold.for_issue(request.metadata)
        step = sum(isinstance(turn, AssistantTurn) for turn in request.messages)
        text, name, arguments = _developer_step(step, scaffold)
        call = ToolCall(id=f"offline_call_{step + 1}", name=name, arguments=json.dumps(arguments))
        words = sum(len(_turn_text(turn).split()) for turn in request.messages)
        return ToolResponse(
            text=text,
            tool_calls=(call,),
            stop_reason="tool_use",
            input_tokens=words,
            output_tokens=len(call.arguments.split()),
            model="offline",
        )


# Short enough that every line written stays under 80 characters, whatever the child's line length.
TITLE_CHARS = 50
SLUG_CHARS = 20


@dataclass(frozen=True)
class Scaffold:
    """The module and test the offline Developer writes for an issue."""

    number: int
    title: str
    module: str

    @classmethod
    def for_issue(cls, meta: dict[str, object]) -> Scaffold:
        number = _int(meta.get("issue_number"))
        slug = re.sub(r"[^a-z0-9]+", "_", str(meta.get("slug", "change")).lower()).strip("_")[:SLUG_CHARS].strip("_") or "change"
        title = " ".join(str(meta.get("issue_title", "")).split()).replace('"', "'").replace("\\", "/")[:TITLE_CHARS].strip()
        return cls(number, title, f"issue_{number}_{slug}")

    @property
    def module_path(self) -> str:
        return f"src/features/{self.module}.py"

    @property
    def test_path(self) -> str:
        return f"tests/test_{self.module}.py"

    @property
    def summary(self) -> str:
        return f"Scaffold for issue #{self.number} ({OFFLINE_LABEL})."

    @property
    def source(self) -> str:
        return (
            f'"""Issue #{self.number}: {self.title}\n\n'
            "A placeholder for a person to replace, written by the\n"
            f'{OFFLINE_LABEL}.\n"""\n\n'
            f"ISSUE_NUMBER = {self.number}\n\n\n"
            "def describe() -> str:\n"
            f'    return "issue #{self.number}: {self.title}"\n'
        )

    @property
    def test(self) -> str:
        return (
            f"from src.features.{self.module} import ISSUE_NUMBER, describe\n\n\n"
            f"def test_describe_names_issue_{self.number}() -> None:\n"
            f"    assert ISSUE_NUMBER == {self.number}\n"
            f'    assert describe().startswith("issue #{self.number}")\n'
        )


HEREDOC_END = "OSORGANIC_OFFLINE_EOF"


def _developer_step(step: int, scaffold: Scaffold) -> tuple[str, str, dict[str, str]]:
    if step == 0:
        return "Looking at the repository first.", "bash", {"command": "git ls-files | head -50"}
    if step == 1:
        command = (
            "mkdir -p src/features && { [ -f src/features/__init__.py ] || : > src/features/__init__.py; } && "
            f"cat > {scaffold.module_path} <<'{HEREDOC_END}'\n{scaffold.source}{HEREDOC_END}\n"
        )
        return f"Writing {scaffold.module_path}.", "bash", {"command": command}
    if step == 2:
        command = f"mkdir -p tests && cat > {scaffold.test_path} <<'{HEREDOC_END}'\n{scaffold.test}{HEREDOC_END}\n"
        return f"Writing {scaffold.test_path}.", "bash", {"command": command}
    title = f"Issue #{scaffold.number}: {scaffold.title}" if scaffold.title else f"Issue #{scaffold.number}"
    return "Done: finishing.", "finish", {"summary": scaffold.summary, "title": title}


def _turn_text(turn: Turn) -> str:
    if isinstance(turn, ToolResultsTurn):
        return " ".join([turn.text, *(result.content for result in turn.results)])
    if isinstance(turn, AssistantTurn):
        return " ".join([turn.text, *(call.arguments for call in turn.tool_calls)])
    return turn.content


def _int(value: object) -> int:
    try:
        return max(int(str(value)), 0)
    except ValueError:
        return 0
