"""The train runner's checkpoints in the store: published by every rank at once, found again on resume.

Layout below `<output_prefix>/checkpoints`:
  checkpoint-<step>/   what the Trainer saved at that step; complete once its manifest exists
  latest.json          {"step", "uri"} of the newest complete checkpoint

Why every rank publishes: with FSDP's sharded state dicts (distributed.strategy_args) each of N ranks
writes 1/N of the weights and optimizer state (`pytorch_model_fsdp_0/__<rank>_0.distcp`,
`optimizer_0/__<rank>_0.distcp`) and its own RNG state (`rng_state_<rank>.pth`). For a 9B student in
fp32 master weights with Adam that is ~108 GB: one rank hashing and uploading all of it would keep
N-1 GPUs idle at a barrier for many minutes, and a SIGTERM checkpoint would outlast the pod's grace
period. So each rank hashes and uploads the files it wrote, in parallel; rank 0 also takes the files
only it writes (trainer state, scheduler, DCP's .metadata, config), gathers every rank's digests and
writes the manifest last: the checkpoint is complete only once every rank's part is in the store.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import progress, store
from . import distributed, preemption

# A file one rank wrote on its own: its RNG state, or its shard of a DCP (torch.distributed.checkpoint)
# directory, which FileSystemWriter names __<rank>_<n>.distcp. Any other file is rank 0's.
_RANK_FILE = re.compile(r"(?:^|/)(?:rng_state_(\d+)\.pth|__(\d+)_\d+\.distcp)$")


def owner(rel: str) -> int:
    """The rank that wrote (and so publishes) the checkpoint file at this relative path."""
    match = _RANK_FILE.search(rel)
    return int(match.group(1) or match.group(2)) if match else 0


def files_of(local: Path, rank: int) -> list[str]:
    rels = (p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file() and p.name != store.MANIFEST)
    return sorted(rel for rel in rels if owner(rel) == rank)


@dataclass
class Published:
    """What a checkpoint cost: a SIGTERM checkpoint costs the same, and must fit the grace period."""
    step: int
    seconds: float  # from the end of the step to the sealed manifest: writing, hashing, uploading
    bytes_by_rank: list[int]  # what each rank hashed and uploaded


def publish(local: Path, uri: str, step: int, step_ended: float) -> Published:
    """Every rank calls this once the Trainer has saved `local` (checkpoint-<step>)."""
    if distributed.is_main():
        store.unseal_dir(uri)  # an earlier attempt's manifest must not vouch for rewritten files
    distributed.barrier()  # every rank has written its files (and the old manifest is gone)
    mine = store.publish_files(local, files_of(local, distributed.rank()), uri)
    every = distributed.gather(mine)
    published = Published(step, 0.0, [sum(size for _, size in part.values()) for part in every])
    if distributed.is_main():
        store.seal_dir(uri, {rel: entry for part in every for rel, entry in part.items()}, "checkpoint")
        published.seconds = round(time.monotonic() - step_ended, 3)
        _warn_if_past_grace(published)
    return published


def _warn_if_past_grace(published: Published) -> None:
    """A checkpoint slower than the kill grace means a preemption would lose the steps since the last one."""
    grace = float(os.environ.get("HALA_KILL_GRACE_S") or 0)
    if grace and published.seconds > grace:
        print(f"train: checkpoint-{published.step} took {published.seconds:.0f} s to save and publish, longer than "
              f"the {grace:.0f} s a SIGTERM leaves (HALA_KILL_GRACE_S): a preemption would lose the steps since the "
              "previous checkpoint. Raise HALA_KILL_GRACE_S and the pod's terminationGracePeriodSeconds, or "
              "serve the train queue from nodes with faster scratch disk or store bandwidth", file=sys.stderr)


def resume_point(hinted: str | None, ckpt_prefix: str) -> str | None:
    """The newest complete checkpoint URI: the heartbeat's (`hinted`) if complete, else latest.json's."""
    if hinted and store.is_complete_dir(hinted):
        return hinted
    if hinted:
        print(f"train: heartbeat checkpoint {hinted} is incomplete; using latest.json", file=sys.stderr)
    pointer = store.join(ckpt_prefix, "latest.json")
    if not store.exists(pointer):
        return None
    uri = json.loads(store.fetch(pointer).read_text())["uri"]
    return uri if store.is_complete_dir(uri) else None


def fetch_once_per_node(uri: str) -> str:
    """The local copy of a checkpoint to resume from. The node's first rank downloads it while the
    others wait; they then find the verified copy in the node's cache (s3_cache.py) instead of each
    downloading ~108 GB."""
    if distributed.local_rank() == 0:
        path = store.fetch(uri)
    distributed.barrier()
    if distributed.local_rank() != 0:
        path = store.fetch(uri)
    return str(path)


def progress_callback(ckpt_prefix: str):
    from transformers import TrainerCallback

    class StoreProgress(TrainerCallback):
        """Publish each checkpoint to the store, then report it (never name an unfinished one)."""

        def __init__(self) -> None:
            self.checkpoint_uri: str | None = None
            self.last: Published | None = None
            self._step_ended = time.monotonic()

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            metrics = {k: logs[k] for k in ("loss", "learning_rate", "grad_norm") if k in logs}
            if metrics and state.is_world_process_zero:  # one heartbeat per step, not one per rank
                progress.emit_progress("train", state.global_step, state.max_steps, self.checkpoint_uri, **metrics)

        def on_step_end(self, args, state, control, **kwargs):
            self._step_ended = time.monotonic()  # the Trainer saves after this, before on_save
            # A preemption notice: checkpoint this step (saved before the loop checks for a stop),
            # on every rank at the same step even if the signal reached them on different sides of it.
            if distributed.any_rank(preemption.requested(), args.device):
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_save(self, args, state, control, **kwargs):
            local = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            uri = store.join(ckpt_prefix, local.name)
            self.last = publish(local, uri, state.global_step, self._step_ended)
            if state.is_world_process_zero:
                store.write_bytes(store.join(ckpt_prefix, "latest.json"),
                                  json.dumps({"step": state.global_step, "uri": uri}).encode())
                progress.emit_progress("save", state.global_step, state.max_steps, uri)
            self.checkpoint_uri = uri
            distributed.barrier()  # none goes on (or stops, preempted) before the checkpoint is named

        def record(self) -> dict | None:
            """The last checkpoint's cost, for the run's result (TrainSftOutput.checkpoint)."""
            return asdict(self.last) if self.last else None

    return StoreProgress()
