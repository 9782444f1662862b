"""Shared pytest set-up for the runner tests: offline hub, importable package, shared fixtures.

Run: PYTHONPATH=gpu-runners $(bash scripts/python-env.sh)/bin/python -m pytest gpu-runners/tests
"""
import os
import sys
from pathlib import Path

# Nothing in a test may reach the Hugging Face hub: fail fast instead of hanging on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tiny models on a shared 2-core machine: OpenMP threads spin against each other and every op
# gets ~25x slower (measured: a 1024x64 @ 64x256 matmul takes 16 ms with 2 threads, 0.6 ms with 1).
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The same CPU kernels on every processor (cpu-kernels.env says why); set before torch is imported.
from hala_runners import cpu_kernels  # noqa: E402  (needs the path above)

cpu_kernels.pin()

# Fixture plugins, one module each, owned by the code they exercise.
pytest_plugins = [
    name
    for name in ("tiny_world_fixture", "runner_fixtures", "train_world", "eval_world", "s3_fixture",
                 "fork_server_fixture", "fork_probe")
    if (Path(__file__).parent / f"{name}.py").exists()
]
