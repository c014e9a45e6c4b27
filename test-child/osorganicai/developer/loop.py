"""The Developer's tool loop: ask the model, run the tools it asked for, feed back the results,
until it calls `finish` and the checks pass, or a budget runs out.

The loop reads as its design (model, environment, loop): `run` repeats `step`; `step` is
`query` then `execute`. Every way out is an outcome that keeps the work on disk: `ready`,
`checks_failing`, `budget_exhausted` (with the budget's name; a SIGTERM or SIGINT counts as the
budget `interrupted`, the pause switch as `paused`) or `failed` (the provider gave up, or the model
refused or stopped using tools). Before each step the loop follows its controls (`controls.py`): a
raised budget applies at once, and a pause ends the run with its work kept.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import Any

from ..config import DeveloperBudgets
from ..llm.base import (
    ChatMessage,
    LLMError,
    LLMProvider,
    ToolCall,
    ToolRequest,
    ToolResponse,
    ToolResult,
    ToolResultsTurn,
    Turn,
)
from .budget import BudgetExhausted, RunBudget
from .checks import CheckRunner, passed, report_for_model
from .controls import PAUSED, ControlPoll, raised_budgets
from .record import Transcript
from .tools import Finish, ToolBox

# Older tool results are shortened in what is sent to the model (the transcript keeps them whole).
RECENT_RESULTS_KEPT = 10
ELIDED_RESULT_CHARS = 400

NUDGE_NO_TOOL = (
    "Continue with the tools: explore with `search`, `view` or `bash`, edit with `str_replace` or `create_file`, "
    "run the tests with `bash`, and call `finish` with a summary when the change is complete."
)
NUDGE_CUT = (
    "Your answer was cut at the length limit before it was complete. Take a smaller step: one tool call with a "
    "short argument (edit with `str_replace`, not by writing whole files)."
)


class Interrupted(BaseException):
    """The process got SIGTERM or SIGINT (a cancelled workflow run): stop and keep the work.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows it."""

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(signal_name)


class StopSignals:
    """Turns the first SIGTERM/SIGINT into `Interrupted` while armed, and ignores later ones,
    so that writing the proposal after an interruption is not cut short by the next signal."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.received: str | None = None
        self.armed = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        self.armed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.armed = False
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def disarm(self) -> None:
        self.armed = False

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signal.Signals(number).name
        if self.armed:
            self.armed = False
            raise Interrupted(self.received)


@dataclass(frozen=True)
class LoopOutcome:
    status: str  # ready | checks_failing | budget_exhausted | failed
    finish: Finish | None = None
    budget_exhausted: str | None = None
    error: str | None = None
    remaining: str = ""


@dataclass
class LoopTimings:
    """Where the wall time of a run went: the model, the tools and checks, and the loop itself."""

    model_seconds: float = 0.0
    tool_seconds: float = 0.0
    total_seconds: float = 0.0
    steps: int = 0

    @property
    def overhead_seconds(self) -> float:
        return max(0.0, self.total_seconds - self.model_seconds - self.tool_seconds)

    def as_dict(self) -> dict[str, float]:
        per_step = self.overhead_seconds / self.steps if self.steps else 0.0
        return {
            "model_seconds": round(self.model_seconds, 4),
            "tool_seconds": round(self.tool_seconds, 4),
            "total_seconds": round(self.total_seconds, 4),
            "overhead_seconds_per_step": round(per_step, 6),
            "steps": self.steps,
        }


@dataclass
class DeveloperLoop:
    llm: LLMProvider
    model: str
    system_prompt: str
    task_prompt: str
    toolbox: ToolBox
    checks: CheckRunner
    budget: RunBudget
    limits: DeveloperBudgets
    transcript: Transcript
    has_changes: Callable[[], bool]
    max_answer_tokens: int = 8000
    temperature: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    controls: ControlPoll | None = None
    clock: Callable[[], float] = time.monotonic
    messages: list[Turn] = field(default_factory=list)
    timings: LoopTimings = field(default_factory=LoopTimings)
    _replies_without_tool: int = 0
    _last_text: str = ""

    def run(self) -> LoopOutcome:
        """Loop until an outcome; `Interrupted` from a signal becomes `budget_exhausted: interrupted`."""
        started = self.clock()
        self.messages = [ChatMessage("user", self.task_prompt)]
        self.transcript.write("task", system=self.system_prompt, task=self.task_prompt, model=self.model)
        try:
            while True:
                self.follow_controls()
                self.budget.check()
                outcome = self.step()
                if outcome is not None:
                    return self._finished(outcome)
        except BudgetExhausted as exhausted:
            return self._finished(self._stopped(exhausted.name, exhausted.detail))
        except Interrupted as interrupted:
            return self._finished(self._stopped("interrupted", f"the run got {interrupted.signal_name}"))
        except LLMError as error:
            return self._finished(LoopOutcome("failed", error=f"the model provider failed: {error}", remaining=self._remaining()))
        finally:
            self.timings.total_seconds = self.clock() - started

    def follow_controls(self) -> None:
        """Apply a raised budget, and stop as `paused` when the agents are paused (read every few seconds)."""
        state = self.controls.poll() if self.controls is not None else None
        if state is None:
            return
        limits = raised_budgets(self.limits, state.budget_factor)
        if limits != self.budget.limits:
            self.budget.limits = limits
            self.transcript.write("budget_raised", factor=state.budget_factor, usage=self.budget.describe())
        if state.paused:
            raise BudgetExhausted(PAUSED, f"the agents were paused by {state.paused_by or 'someone'}")

    def step(self) -> LoopOutcome | None:
        response = self.query()
        self.messages.append(response.as_turn())
        if response.tool_calls:
            self._replies_without_tool = 0
            return self.execute(response.tool_calls)
        return self.answer_without_tools(response)

    # -- the model -----------------------------------------------------------------------------
    def query(self) -> ToolResponse:
        request = ToolRequest(
            system=self.system_prompt,
            messages=shortened_history(self.messages),
            tools=self.toolbox.specs(),
            model=self.model,
            max_tokens=self.max_answer_tokens,
            temperature=self.temperature,
            deadline_seconds=self.budget.seconds_left(),
            metadata=self.metadata,
        )
        started = self.clock()
        try:
            response = self.llm.complete_with_tools(request)
        finally:
            self.timings.model_seconds += self.clock() - started
        self.budget.charge(response)
        self.timings.steps += 1
        if response.text.strip():
            self._last_text = response.text.strip()
        self.transcript.write(
            "model",
            step=self.budget.steps,
            text=response.text,
            tool_calls=[{"id": call.id, "name": call.name, "arguments": call.arguments} for call in response.tool_calls],
            stop_reason=response.stop_reason,
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            cost_usd=round(self.budget.cost_usd, 6),
        )
        return response

    def answer_without_tools(self, response: ToolResponse) -> LoopOutcome | None:
        if response.stop_reason in {"refusal", "content_filter"}:
            reason = response.text.strip()[:500] or response.stop_reason
            return LoopOutcome("failed", error=f"the model refused to go on ({reason})", remaining=self._remaining())
        self._replies_without_tool += 1
        if self._replies_without_tool > self.limits.max_replies_without_tool:
            return LoopOutcome(
                "failed",
                error=f"the model answered {self._replies_without_tool} times in a row without calling a tool",
                remaining=self._remaining(),
            )
        nudge = NUDGE_CUT if response.stop_reason == "max_tokens" else NUDGE_NO_TOOL
        self.messages.append(ChatMessage("user", nudge))
        self.transcript.write("nudge", text=nudge)
        return None

    # -- the tools -------------------------------------------------------------------------------
    def execute(self, calls: tuple[ToolCall, ...]) -> LoopOutcome | None:
        results: list[ToolResult] = []
        outcome: LoopOutcome | None = None
        for call in calls:
            if outcome is not None or (results and results[-1].name == "finish" and not results[-1].is_error):
                results.append(ToolResult(call.id, call.name, "Not run: it came after `finish`.", is_error=True))
                continue
            started = self.clock()
            try:
                tool_outcome = self.toolbox.execute(call)
                result = tool_outcome.result
                if tool_outcome.finish is not None:
                    result, outcome = self.finish(call, tool_outcome.finish)
            finally:
                self.timings.tool_seconds += self.clock() - started
            results.append(result)
            self.transcript.write("tool", call_id=call.id, name=call.name, is_error=result.is_error, content=result.content)
        self.messages.append(ToolResultsTurn(tuple(results)))
        return outcome

    def finish(self, call: ToolCall, finish: Finish) -> tuple[ToolResult, LoopOutcome | None]:
        """Run the checks on `finish`; passing ends the loop, failing goes back to the model."""
        if not self.has_changes():
            self.transcript.write("finish", summary=finish.summary, changes=False)
            return ToolResult(call.id, call.name, "Finished with no change."), LoopOutcome("ready", finish=finish)
        outcomes = self.checks.run_round()
        self.transcript.write("checks", round=self.checks.rounds, outcomes=[outcome.model_dump() for outcome in outcomes])
        if passed(outcomes):
            content = "All checks passed: " + ", ".join(outcome.name for outcome in outcomes) if outcomes else "Done."
            return ToolResult(call.id, call.name, content), LoopOutcome("ready", finish=finish)
        rounds_left = self.limits.max_check_rounds - self.checks.rounds
        report = report_for_model(outcomes, rounds_left)
        if rounds_left <= 0:
            failing = ", ".join(outcome.name for outcome in outcomes if not outcome.passed)
            remaining = f"The checks still fail after {self.checks.rounds} round(s): {failing}."
            return ToolResult(call.id, call.name, report, is_error=True), LoopOutcome(
                "checks_failing", finish=finish, remaining=remaining
            )
        return ToolResult(call.id, call.name, report, is_error=True), None

    # -- endings ----------------------------------------------------------------------------------
    def _stopped(self, budget_name: str, detail: str) -> LoopOutcome:
        return LoopOutcome("budget_exhausted", budget_exhausted=budget_name, remaining=self._remaining(detail))

    def _remaining(self, why: str = "") -> str:
        parts = []
        if why:
            parts.append(f"Stopped: {why}.")
        if self.checks.rounds == 0:
            parts.append("The checks never ran.")
        elif not passed([o for o in self.checks.outcomes if o.round == self.checks.rounds]):
            parts.append("The last round of checks failed.")
        if self._last_text:
            parts.append(f"The model's last note: {self._last_text[:1500]}")
        return " ".join(parts)

    def _finished(self, outcome: LoopOutcome) -> LoopOutcome:
        self.transcript.write(
            "outcome",
            status=outcome.status,
            budget_exhausted=outcome.budget_exhausted,
            error=outcome.error,
            remaining=outcome.remaining,
            usage=self.budget.describe(),
        )
        return outcome


def shortened_history(messages: list[Turn]) -> list[Turn]:
    """The conversation to send: the last tool results whole, older long ones cut to their start."""
    result_turns = [index for index, turn in enumerate(messages) if isinstance(turn, ToolResultsTurn)]
    old = set(result_turns[:-RECENT_RESULTS_KEPT])
    shortened: list[Turn] = []
    for index, turn in enumerate(messages):
        if index in old and isinstance(turn, ToolResultsTurn):
            turn = replace(turn, results=tuple(_elided(result) for result in turn.results))
        shortened.append(turn)
    return shortened


def _elided(result: ToolResult) -> ToolResult:
    if len(result.content) <= ELIDED_RESULT_CHARS:
        return result
    kept = result.content[:ELIDED_RESULT_CHARS]
    left_out = len(result.content) - ELIDED_RESULT_CHARS
    note = f"\n[... {left_out} more characters of this old result left out; run it again to see them]"
    return replace(result, content=kept + note)
