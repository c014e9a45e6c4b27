"""The Developer process hardens itself before the model's first command: it becomes non-dumpable
(its /proc files and memory closed to other processes of the user) and drops secret variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD_ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import os, subprocess, sys
from osorganicai.developer.sandbox import harden_process, is_dumpable
os.environ["FAKE_SERVICE_TOKEN"] = "very-secret-value-123"
os.environ["OPENAI_API_KEY"] = "sk-proj-secretvalue-abcdefghijklmnop"
before = is_dumpable()
hardened = harden_process()
child = subprocess.run(["env"], capture_output=True, text=True).stdout
print(before, hardened, is_dumpable(), "very-secret" in child or "sk-proj" in child, "PATH=" in child)
"""


def test_harden_process_makes_it_non_dumpable_and_drops_secret_variables() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=CHILD_ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    before, hardened, after, leaked, has_path = completed.stdout.split()
    assert (before, hardened, after) == ("True", "True", "False")
    assert leaked == "False" and has_path == "True"
