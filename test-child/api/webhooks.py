"""Vercel function and local ASGI app: `uvicorn api.webhooks:app` serves POST /api/webhooks
(and GET /api/health for convenience). Kept import-light: no LLM SDK, no database driver at
import time; they load on the first request that needs them.

For local runs it also answers /console: the console app (api/console.py on Vercel, where
vercel.json routes /console there) is imported on the first /console request only."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from osorganicai.webhook import create_app  # noqa: E402


class ConsoleOnDemand:
    """ASGI: /console and below go to the console app, built on the first such request."""

    def __init__(self, webhook_app):
        self.webhook_app = webhook_app
        self.console_app = None

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/console" or path.startswith("/console/"):
            if self.console_app is None:
                from osorganicai.console.app import create_console_app

                self.console_app = create_console_app()
            await self.console_app(scope, receive, send)
            return
        await self.webhook_app(scope, receive, send)

    def __getattr__(self, name):
        # Everything else is the webhook app's (`openapi()`, `routes`, `state`...): tools that load this
        # module's `app` see the FastAPI application they expect.
        if name in ("webhook_app", "console_app"):
            raise AttributeError(name)
        return getattr(self.webhook_app, name)


app = ConsoleOnDemand(create_app())
