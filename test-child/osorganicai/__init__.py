"""osorganicai: the agent runtime of an osorganic child repository.

This package comes from the osorganic template and moves with it on `osorganic update`; put
project-specific behaviour in `src/agents/`, which the runtime loads (subclasses of its agents).
"""

from .version import __version__

__all__ = ["__version__"]
