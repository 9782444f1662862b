"""The CPU kernel paths pinned for local runs (gpu-runners/cpu-kernels.env says which and why), read
by the Python side that trains on CPU outside a worker: the runner tests (tests/conftest.py) and the
tiny world's build. The local stack's workers get them from platform/python-env.ts, which reads the
same file. Call before torch is imported: MKL and ATen read them once, at load."""
from __future__ import annotations

import os
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parents[1] / "cpu-kernels.env"


def pin() -> None:
    """Set each pinned variable that the environment does not set already."""
    for line in ENV_FILE.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            os.environ.setdefault(name, value)
