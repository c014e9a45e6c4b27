"""Vercel cron function: GET /api/cron/sweep dispatches jobs left pending and fails jobs left running
past their workflow's timeout (cancelled and abandoned jobs are never dispatched).

Vercel sends `Authorization: Bearer $CRON_SECRET`. On the Hobby plan crons run at most once a
day, so the scheduled `sweeper` workflow is the main fallback; this is the second one."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from osorganicai.cron import create_cron_app  # noqa: E402

app = create_cron_app()
