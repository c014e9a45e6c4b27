"""The Developer agent's tool loop: the workspace its commands run in, its tools, and content-ranked retrieval."""

from .retrieval import RepositoryIndex, SearchHit
from .workspace import CommandResult, Workspace, scrubbed_environment, secret_values

__all__ = ["CommandResult", "RepositoryIndex", "SearchHit", "Workspace", "scrubbed_environment", "secret_values"]
