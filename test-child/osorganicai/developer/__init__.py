"""The Developer agent's tool loop: the workspace its commands run in, its tools, and content-ranked retrieval."""

from .retrieval import RepositoryIndex, SearchHit
from .tools import Finish, ToolBox, ToolOutcome
from .workspace import CommandResult, Workspace, scrubbed_environment, secret_values

__all__ = [
    "CommandResult",
    "Finish",
    "RepositoryIndex",
    "SearchHit",
    "ToolBox",
    "ToolOutcome",
    "Workspace",
    "scrubbed_environment",
    "secret_values",
]
