"""The operator console at `/console`: the owner watches the agents work, sees what they cost, and
steps in (pause, resume, cancel, retry, raise a budget). Served by its own Vercel function
(`api/console.py`, `create_console_app` in `console.app`); nothing on the webhook's import path
imports this package, so the webhook's cold start does not grow."""
