"""The runtime's agents. A child subclasses them in `src/agents/`."""

from .base import LABEL_NEEDS_CLARIFICATION, LABEL_READY_FOR_DEV, BaseAgent
from .developer import DeveloperAgent, DeveloperResult
from .product_owner import ProductOwnerAgent, ProductOwnerResult

__all__ = [
    "LABEL_NEEDS_CLARIFICATION",
    "LABEL_READY_FOR_DEV",
    "BaseAgent",
    "DeveloperAgent",
    "DeveloperResult",
    "ProductOwnerAgent",
    "ProductOwnerResult",
]
