"""train_checkpoints.py: which rank publishes which checkpoint file, on torch's own sharded layout;
a checkpoint sealed only after every rank's part; the grace-period warning (issue 22, finding 6).

    PYTHONPATH=gpu-runners python -m pytest gpu-runners/tests/test_train_checkpoints.py -q
"""
from __future__ import annotations

import os
import time

import pytest
import torch.multiprocessing as mp

from hala_runners import store
from hala_runners.runners import train_checkpoints
from hala_runners.runners.train_checkpoints import files_of, owner


def test_each_rank_owns_its_rng_state_and_its_dcp_shards_and_rank_0_the_rest():
    assert owner("rng_state_3.pth") == 3
    assert owner("pytorch_model_fsdp_0/__5_0.distcp") == 5
    assert owner("optimizer_0/__1_0.distcp") == 1
    for shared in ("rng_state.pth", "pytorch_model_fsdp_0/.metadata", "trainer_state.json", "scheduler.pt",
                   "model.safetensors", "optimizer.pt", "tokenizer.json"):
        assert owner(shared) == 0, shared


def _save_sharded(rank: int, world: int, port: int, directory: str) -> None:
    """Two gloo ranks save a DTensor-sharded state dict with torch.distributed.checkpoint, as
    accelerate's save_fsdp_model does for FSDP2's SHARDED_STATE_DICT."""
    import torch
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_tensor

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        mesh = init_device_mesh("cpu", (world,))
        weight = distribute_tensor(torch.arange(16.0).reshape(4, 4), mesh, [Shard(0)])
        dcp.save({"model": {"weight": weight}}, storage_writer=dcp.FileSystemWriter(f"{directory}/pytorch_model_fsdp_0"))
    finally:
        dist.destroy_process_group()


def test_torchs_sharded_checkpoint_files_are_named_by_the_rank_that_wrote_them(tmp_path):
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_save_sharded, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {"pytorch_model_fsdp_0/__0_0.distcp", "pytorch_model_fsdp_0/__1_0.distcp"} <= written, written
    assert files_of(tmp_path, 1) == ["pytorch_model_fsdp_0/__1_0.distcp"]
    assert set(files_of(tmp_path, 0)) == written - {"pytorch_model_fsdp_0/__1_0.distcp"}


def _checkpoint(directory, rng_ranks=(0,)):
    directory.mkdir(parents=True)
    (directory / "trainer_state.json").write_text('{"global_step": 4}')
    for r in rng_ranks:
        (directory / f"rng_state_{r}.pth").write_bytes(bytes([r]) * 10)
    return directory


def test_a_rewritten_checkpoint_is_sealed_again_over_its_new_files(tmp_path):
    local = _checkpoint(tmp_path / "scratch" / "checkpoint-4")
    uri = f"file://{tmp_path}/store/checkpoints/checkpoint-4"
    first = train_checkpoints.publish(local, uri, 4, time.monotonic())
    assert store.is_complete_dir(uri) and first.bytes_by_rank == [28]
    (local / "trainer_state.json").write_text('{"global_step": 4, "retried": true}')
    train_checkpoints.publish(local, uri, 4, time.monotonic())
    assert store.manifest_text(store.local_path(uri)) == (store.local_path(uri) / store.MANIFEST).read_text()


def test_a_checkpoint_slower_than_the_kill_grace_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALA_KILL_GRACE_S", "30")
    local = _checkpoint(tmp_path / "checkpoint-4")
    published = train_checkpoints.publish(local, f"file://{tmp_path}/store/checkpoint-4", 4, time.monotonic() - 45)
    assert published.seconds >= 45
    err = capsys.readouterr().err
    assert "checkpoint-4 took 45 s" in err and "HALA_KILL_GRACE_S" in err and "terminationGracePeriodSeconds" in err

    train_checkpoints.publish(local, f"file://{tmp_path}/store/checkpoint-4", 4, time.monotonic())
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("hinted_complete", [True, False])
def test_resume_takes_the_heartbeats_checkpoint_when_complete_else_latest(tmp_path, hinted_complete):
    prefix = f"file://{tmp_path}/store/checkpoints"
    for step in (4, 8):
        train_checkpoints.publish(_checkpoint(tmp_path / f"c{step}" / f"checkpoint-{step}"),
                                  f"{prefix}/checkpoint-{step}", step, time.monotonic())
    store.write_bytes(f"{prefix}/latest.json", f'{{"step": 4, "uri": "{prefix}/checkpoint-4"}}'.encode())
    if not hinted_complete:
        store.unseal_dir(f"{prefix}/checkpoint-8")
    expected = f"{prefix}/checkpoint-8" if hinted_complete else f"{prefix}/checkpoint-4"
    assert train_checkpoints.resume_point(f"{prefix}/checkpoint-8", prefix) == expected
