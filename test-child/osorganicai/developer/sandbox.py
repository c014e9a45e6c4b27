"""What the Developer process does to itself before the model's first command runs, so that the
secrets it holds (the LLM key, a read-only GitHub token) do not reach those commands.

The commands already get a scrubbed environment (`workspace.scrubbed_environment`). They run as
the same user, though, and could read `/proc/<parent>/environ` or `/proc/<parent>/mem` of the
runtime. `harden_process` marks the process non-dumpable (Linux `prctl(PR_SET_DUMPABLE, 0)`):
its `/proc` files then belong to root and ptrace is refused to other processes of the user. It
also takes secret-looking variables out of `os.environ`, so nothing started later inherits them.
The workflow starts the runtime with `exec`, so no shell above it keeps the secrets either.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import MutableMapping

from .workspace import looks_secret

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def set_not_dumpable() -> bool:
    """Mark this process non-dumpable; False where the platform cannot (then only the environment is scrubbed)."""
    libc = _libc()
    if libc is None:
        return False
    return libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0


def is_dumpable() -> bool | None:
    """Whether this process is dumpable; None where the platform cannot tell."""
    libc = _libc()
    if libc is None:
        return None
    return libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1


def drop_secret_variables(environ: MutableMapping[str, str]) -> list[str]:
    """Remove secret-looking variables from `environ` (after the settings were read); their names."""
    names = [name for name in list(environ) if looks_secret(name)]
    for name in names:
        del environ[name]
    return names


def harden_process(environ: MutableMapping[str, str] | None = None) -> bool:
    """Both steps, for the process that runs the model's commands; True when it is non-dumpable."""
    drop_secret_variables(os.environ if environ is None else environ)
    return set_not_dumpable()
