"""Publishing a Developer run's proposal: validate the folder, apply the patch through the Git data API,
open or update the pull request, keep the issue's status comment, record the outcome.

The entry point is `publish(folder, repository=..., github=..., store=..., policy=..., bot_login=...)`;
`exit_code(result)` maps its outcome for the command line (a bad folder raises ProposalError: exit 2).
"""

from .patch_rules import PublishConflict, PublishPolicy, PublishRefused
from .publish import EXIT_BAD_PROPOSAL, PublishResult, exit_code, publish

__all__ = [
    "EXIT_BAD_PROPOSAL",
    "PublishConflict",
    "PublishPolicy",
    "PublishRefused",
    "PublishResult",
    "exit_code",
    "publish",
]
