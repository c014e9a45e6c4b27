"""The Developer agent's tool loop: the workspace its commands run in, its tools, and content-ranked retrieval."""

from .workspace import CommandResult, Workspace, scrubbed_environment, secret_values

__all__ = ["CommandResult", "Workspace", "scrubbed_environment", "secret_values"]
