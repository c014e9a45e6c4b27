"""Vercel function: the operator console at /console (pages, live fragments, sign-in with GitHub,
interventions). vercel.json rewrites /console and /console/* here; the console's code, Jinja2
included, loads only in this function, never in the webhook's."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from osorganicai.console.app import create_console_app  # noqa: E402

app = create_console_app()
