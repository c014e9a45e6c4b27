"""Vercel function and local ASGI app: `uvicorn api.webhooks:app` serves POST /api/webhooks
(and GET /api/health for convenience). Kept import-light: no LLM SDK, no database driver at
import time; they load on the first request that needs them."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from osorganicai.webhook import create_app  # noqa: E402

app = create_app()
