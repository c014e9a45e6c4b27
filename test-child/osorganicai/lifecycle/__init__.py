"""After the pull request: the runtime's own pull request driven by checks, reviews, merges and deploys.

`handlers.py` maps each event to its handler (the registry), `state.py` keeps each issue's pull
request state (fix rounds, the head acted on, the merge commit, done, deployed or abandoned, each
deployment commented once), `context.py` gathers what a `fix`
or `revise` run needs to know (failing checks, review comments) and answers review threads.
"""

from .handlers import HANDLERS, LifecycleContext, Outcome, handle_event, run_lifecycle_job
from .state import PullState, PullStates

__all__ = ["HANDLERS", "LifecycleContext", "Outcome", "PullState", "PullStates", "handle_event", "run_lifecycle_job"]
