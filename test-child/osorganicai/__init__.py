"""osorganicai: the agent runtime of an osorganic child repository.

This package is generated from the osorganic template and replaced by `osorganic update`;
put project-specific behaviour in `src/agents/`, which the runtime loads and never overwrites.
"""

__version__ = "0.1.0"
