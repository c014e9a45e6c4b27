"""Vercel function: GET /api/health (version, database reachability, missing and misconfigured settings;
503 when the database is unreachable or GITHUB_REPOSITORY is unset or malformed)."""

import sys
from pathlib import Path

from fastapi import FastAPI

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from osorganicai.health import add_health_route  # noqa: E402
from osorganicai.service import Service  # noqa: E402

app = FastAPI(title="osorganicai health", docs_url=None, redoc_url=None, openapi_url=None)
add_health_route(app, Service())
