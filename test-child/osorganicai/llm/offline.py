"""A deterministic provider that calls no model, so a child runs end to end without a key.

Its output is labelled as offline wherever it reaches GitHub. The Product Owner asks for
clarification while an issue is too thin (short and without acceptance criteria, and nobody
has answered yet) and otherwise writes a refined description from the issue and the replies;
the Developer writes one small module and its test, named after the issue.
"""

from __future__ import annotations

import json
import re

from .base import LLMError, LLMRequest, LLMResponse

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
        meta = request.metadata
        number = int(meta.get("issue_number", 0))
        slug = re.sub(r"[^a-z0-9]+", "_", str(meta.get("slug", "change")).lower()).strip("_") or "change"
        title = str(meta.get("issue_title", "")).replace('"', "'").replace("\\", "/")[:120]
        module = f"issue_{number}_{slug}"
        source = (
            f'"""Issue #{number}: {title}\n\nWritten by the {OFFLINE_LABEL}: a placeholder for a person to replace.\n"""\n\n'
            f"ISSUE_NUMBER = {number}\n\n\n"
            "def describe() -> str:\n"
            f'    return "issue #{number}: {title}"\n'
        )
        test = (
            f"from src.features.{module} import ISSUE_NUMBER, describe\n\n\n"
            f"def test_describe_names_issue_{number}() -> None:\n"
            f"    assert ISSUE_NUMBER == {number}\n"
            f'    assert describe().startswith("issue #{number}")\n'
        )
        return {
            "summary": f"Scaffold for issue #{number} ({OFFLINE_LABEL}).",
            "files": [
                {"path": "src/features/__init__.py", "content": ""},
                {"path": f"src/features/{module}.py", "content": source},
            ],
            "tests": [{"path": f"tests/test_{module}.py", "content": test}],
        }
