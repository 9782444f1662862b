"""A forked train runner writes the weights an exec'd one writes, byte for byte.

The chaos suite holds a rerun's artifacts byte-identical to the undisturbed run's, and the local
stack forks its runners (HALA_RUNNER_PRELOAD=default) where production images exec them: a fork
from the server that imported torch and transformers must train exactly what a fresh interpreter
trains. Compared here are the weights (model.safetensors), not the model artifact's digest: the
artifact also holds hala_run_config.json, which names the store's paths, so its digest moves with
the checkout even when the weights do not.
"""
from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

import pytest
from train_world import train_config, write_config

from hala_runners import child_process, fork_client, store


def _train(world, root: Path, tag: str, knobs: dict | None = None) -> str:
    """One train runner through ChildProcess (forked when a server is in use); its weights' sha256."""
    run = root / tag
    run.mkdir()
    prefix = f"file://{run}/store/sft"
    config = write_config(run, train_config(world, prefix, knobs=knobs))
    env = {**child_process.runner_env(), "HALA_WORK_DIR": str(run / "work")}

    async def start_and_wait() -> int | None:
        proc = await child_process.ChildProcess.start([sys.executable, "-m", "hala_runners.runners.train", "--config", config],
                                                      tag, env=env)
        await proc.proc.stdout.read()  # drain the progress lines, or a full pipe stalls the runner
        return await proc.wait()

    code = asyncio.run(start_and_wait())
    assert code == 0, f"train runner {tag} exited {code} (its stderr is above, forwarded by ChildProcess)"
    weights = Path(store.local_path(prefix)) / "model" / "model.safetensors"
    return hashlib.sha256(weights.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def preloaded():
    """A server with the local stack's preload ("default": torch, transformers, the lfm2 classes)."""
    server = fork_client.ForkServer.start("default", child_process.runner_env())
    try:
        yield server
    finally:
        fork_client.use(None)
        server.stop()


def test_forked_training_writes_the_execd_weights(world, preloaded, tmp_path):
    fork_client.use(None)
    execd = _train(world, tmp_path, "exec")
    fork_client.use(preloaded)
    forked = [_train(world, tmp_path, f"fork{i}") for i in range(2)]  # the second from a server that served one
    assert preloaded.forked == 2 and preloaded.usable, "the runs fell back to exec: nothing forked was compared"
    assert forked == [execd, execd]


def test_two_intra_op_threads_repeat_their_weights(world, preloaded, tmp_path):
    """knobs.cpu_threads (the tiny translator's 2): a rerun at the same thread count writes the same bytes."""
    fork_client.use(preloaded)
    runs = [_train(world, tmp_path, f"threads{i}", knobs={"cpu_threads": 2}) for i in range(2)]
    assert runs[0] == runs[1]
