"""The structured outputs the agents ask the model for, validated with pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ProductOwnerAnalysis(BaseModel):
    model_config = ConfigDict(extra="forbid")

    needs_clarification: bool
    questions: list[str] = Field(default_factory=list, max_length=10)
    refined_description: str = Field(default="", max_length=20_000)
    is_complete: bool

    @model_validator(mode="after")
    def consistent(self) -> ProductOwnerAnalysis:
        self.questions = [question.strip()[:1000] for question in self.questions if question.strip()]
        if self.needs_clarification and not self.questions:
            raise ValueError("needs_clarification is true but no question was given")
        if self.needs_clarification == self.is_complete:
            raise ValueError("exactly one of needs_clarification and is_complete must be true")
        if self.is_complete and not self.refined_description.strip():
            raise ValueError("is_complete is true but refined_description is empty")
        return self


class GeneratedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=300)
    content: str = Field(max_length=200_000)


class DeveloperChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=5_000)
    files: list[GeneratedFile] = Field(min_length=1, max_length=20)
    tests: list[GeneratedFile] = Field(min_length=1, max_length=10)
