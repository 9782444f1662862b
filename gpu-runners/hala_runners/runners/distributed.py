"""Training on several processes of one node (TrainKnobs `gpus` > 1): the launcher and its ranks.

    activity ─► python -m hala_runners.runners.train --config c.json            the launcher (this
                 └ accelerate launch, in process: torch elastic's agent           module's `launch`)
                    └ rank r of N: python -u -m hala_runners.runners.train --config <scratch>/launch/config.json

The launcher is the runner the activity sees: the same command, the same stdout protocol, one
terminal event. It writes the ranks' config (the resume point settled once, so every rank resumes
from the same checkpoint) and an accelerate config, and runs `accelerate launch` in its own process,
so torch elastic's failures come back as Python objects rather than an exit code 1.

Ranks (`is_rank()`; they find HALA_RANK_OUTCOMES in their environment) train together over gloo on
CPU or NCCL on GPUs (accelerate's PartialState picks; the Trainer's `use_cpu` says which):
- only rank 0 writes to the store and to stdout; other ranks' stdout is their stderr (worker log);
- each writes its terminal event to `<outcomes>/rank-<r>.json`; `verdict` turns those and the
  agent's exit codes into the one event the launcher emits (the first failure is the cause, a
  rank's own typed error before a peer's broken-pipe error);
- torch elastic starts every rank in a session of its own, out of reach of the activity's process-
  group kill: SIGTERM reaches them through the agent (which forwards it), and a rank dies with the
  launcher (HALA_PARENT_PID is the launcher: runner_harness.exit_with_parent).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..errors import HalaError, classify, silent_exit_type
from ..runner_harness import exit_with_parent, killed_with_parent, load_config, scratch_dir

C = TypeVar("C")
OUTCOMES_ENV = "HALA_RANK_OUTCOMES"  # set by the launcher for its ranks only


# ---- where this process stands --------------------------------------------------------------------

def is_rank() -> bool:
    """Started by `launch` (a rank), not by the activity."""
    return OUTCOMES_ENV in os.environ


def launches(knobs: dict) -> bool:
    """This process is the launcher of a multi-process run: gpus > 1 and not a rank itself."""
    return int(knobs["gpus"]) > 1 and not is_rank()


def rank() -> int:
    return int(os.environ.get("RANK", "0")) if is_rank() else 0


def local_rank() -> int:
    """This process's rank among those of its node (every rank, while a run spans one node)."""
    return int(os.environ.get("LOCAL_RANK", "0")) if is_rank() else 0


def is_main() -> bool:
    """The one process that writes to the store and speaks on stdout (always true with one process)."""
    return rank() == 0


def _initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def barrier() -> None:
    """Every rank waits here for the others; nothing to wait for with one process."""
    if _initialized():
        import torch.distributed as dist

        dist.barrier()


def gather(value: Any) -> list[Any]:
    """Every rank's `value` (picklable), in rank order, on every rank; [value] with one process."""
    if not _initialized():
        return [value]
    import torch.distributed as dist

    values: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def any_rank(flag: bool, device: Any) -> bool:
    """True on every rank if it is true on any: ranks must take the same branch (a collective
    entered by one rank only hangs the others). `device`: where the backend reduces (cuda for NCCL)."""
    if not _initialized():
        return flag
    import torch
    import torch.distributed as dist

    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def strategy_args(knobs: dict, gradient_checkpointing: bool) -> dict[str, Any]:
    """SFTConfig arguments for the knobs' strategy: none for one process or DDP (what the Trainer does
    under a launcher by itself); FSDP2 full sharding and FSDP's own activation checkpointing (the
    Trainer's would all-gather every layer a second time in the backward pass).

    Checkpoints are sharded state dicts: each rank writes its own 1/N of the weights and optimizer
    (torch.distributed.checkpoint) and publishes it (train_checkpoints.py). A FULL_STATE_DICT
    checkpoint gathers everything on rank 0 and, in accelerate 1.15 / transformers 5.17, writes the
    fp32 weights twice (model.safetensors by Trainer.save_model, pytorch_model_fsdp.bin by
    save_fsdp_model) beside the optimizer: ~144 GB for a 9B student, all written by one rank. The
    final model is gathered once, at the end, in the recipe's dtype (final_model.py)."""
    if int(knobs["gpus"]) == 1 or knobs["strategy"] == "ddp":
        return {}
    return {"fsdp": True, "gradient_checkpointing": False,
            "fsdp_config": {"version": 2, "state_dict_type": "SHARDED_STATE_DICT",
                            "activation_checkpointing": gradient_checkpointing}}


# ---- a rank -----------------------------------------------------------------------------------------

def run_rank(cls: type[C], body: Callable[[C], dict], argv: list[str] | None = None) -> int:
    """A rank's main: the runner convention (runner_harness.run), but the terminal event goes to the
    launcher's outcome file, and only rank 0 keeps stdout (progress events, heartbeats)."""
    if not is_main():
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # library prints too: fd level
    parser = argparse.ArgumentParser(description="one rank of a multi-process training run")
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    _die_with_launcher()
    try:
        outcome = {"event": "result", "result": body(load_config(cls, args.config))}
    except Exception as e:  # noqa: BLE001 - the launcher must learn every rank's failure, typed
        traceback.print_exception(e, file=sys.stderr)
        err = classify(e)
        outcome = {"event": "error", "type": err.type, "message": err.message}
    path = Path(os.environ[OUTCOMES_ENV]) / f"rank-{rank()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(outcome))
    os.replace(tmp, path)  # the launcher reads whole files only
    return 0 if outcome["event"] == "result" else 1


def _die_with_launcher() -> None:
    """The activity's SIGKILL reaches the launcher's process group, not ours (torch elastic gives each
    rank a session of its own). The kernel kills us when the launcher dies (PR_SET_PDEATHSIG, Linux),
    even from inside a hung collective; the harness's watchdog thread covers other systems and the
    launcher dying before this line."""
    killed_with_parent()
    exit_with_parent()  # HALA_PARENT_PID is the launcher


# ---- the launcher -----------------------------------------------------------------------------------

def launch(cfg: Any, module: str) -> dict:
    """Run `module` as `knobs.gpus` ranks over `cfg`; rank 0's result, or the run's one HalaError."""
    import torch
    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.commands.launch import launch_command, launch_command_parser
    from accelerate.utils import ComputeEnvironment, DistributedType
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    n = int(cfg.knobs["gpus"])
    if torch.cuda.is_available() and torch.cuda.device_count() < n:
        raise HalaError("BadRecipe", f"knobs.gpus is {n} but this train worker sees {torch.cuda.device_count()} "
                                     "GPU(s): lower gpus, or serve the train queue from nodes with that many")
    if cfg.knobs["strategy"] == "fsdp" and not torch.cuda.is_available():
        # accelerate shards only over accelerators: on CPU processes it would quietly train DDP.
        raise HalaError("BadRecipe", "knobs.strategy fsdp needs GPUs and this train worker has none: use "
                                     "strategy ddp on CPU, or serve the train queue from GPU nodes")
    work = scratch_dir(cfg.stage_key) / "launch"
    shutil.rmtree(work, ignore_errors=True)  # no outcome of an earlier attempt may speak for this one
    (work / "outcomes").mkdir(parents=True)
    (work / "config.json").write_text(json.dumps(asdict(cfg)))
    # accelerate's own config object, in a file we pass: a stray ~/.cache/huggingface/accelerate
    # default config cannot change the launch. MULTI_GPU is accelerate's name for "N processes on
    # this node"; on a CPU-only host the ranks' Trainer (use_cpu) makes them gloo CPU processes.
    ClusterConfig(compute_environment=ComputeEnvironment.LOCAL_MACHINE, distributed_type=DistributedType.MULTI_GPU,
                  mixed_precision="no", use_cpu=False, debug=False, num_processes=n, num_machines=1,
                  gpu_ids="all", main_process_port=0).to_json_file(str(work / "accelerate.json"))
    args = launch_command_parser().parse_args(
        ["--config_file", str(work / "accelerate.json"),
         "--log_dir", str(work / "elastic"),  # torch elastic's error files here, not in a new /tmp dir
         "--module", module, "--config", str(work / "config.json")])

    grace = float(os.environ.get("HALA_KILL_GRACE_S", "0"))
    env = {OUTCOMES_ENV: str(work / "outcomes"),
           "HALA_PARENT_PID": str(os.getpid()),  # a rank's parent is this process (the agent)
           # On SIGTERM the agent gives the ranks this long to checkpoint before SIGKILL: no less
           # than the activity's own grace (HALA_KILL_GRACE_S) after its SIGTERM.
           "TORCH_ELASTIC_SHUTDOWN_TIMEOUT": os.environ.get("TORCH_ELASTIC_SHUTDOWN_TIMEOUT", str(int(max(30, grace + 5))))}
    if not torch.cuda.is_available():
        # accelerate names a CPU rank's device cpu:<local rank>, and the Trainer then resumes the
        # optimizer with torch.load(map_location="cpu:0"), which torch cannot restore. Plain "cpu".
        env["ACCELERATE_TORCH_DEVICE"] = "cpu"
    exits: dict[int, int] = {}
    signalled = False
    with _environ(env):
        try:
            launch_command(args)
        except ChildFailedError as e:  # the ranks the agent saw fail first; it stopped the others
            exits = {int(r): int(f.exitcode) for r, f in e.failures.items()}
        except SignalException:  # SIGTERM to the launcher: forwarded to every rank, which checkpoint
            signalled = True
    return verdict(n, read_outcomes(work / "outcomes"), exits, signalled)


@contextlib.contextmanager
def _environ(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class RankOutOfMemory(HalaError):
    """A rank ran out of memory. The launcher, not the rank, records the halved batch: once per run,
    whichever ranks ran out (runners/oom.py)."""

    def __init__(self, message: str):
        super().__init__("OutOfMemory", message)


def read_outcomes(directory: Path) -> dict[int, dict]:
    return {int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in directory.glob("rank-*.json")}


def verdict(world_size: int, outcomes: dict[int, dict], exits: dict[int, int], signalled: bool) -> dict:
    """Rank 0's result, or raise the one HalaError that says why the run stopped.

    `exits`: rank -> exit code of the ranks the agent found failed first (torch elastic then stops the
    rest, so later failures are consequences); `signalled`: the launcher itself got SIGTERM.
    Priority among the ranks that count: a rank that died of a signal without a word (never a
    consequence: the agent's own kills come after it looked; typed by the rule for a single runner's
    silent exit, SIGKILL being most likely the kernel's OOM killer), then a typed error of a rank's
    own (OutOfMemory, Preempted, BadInput, ...; rank 0's first), then a RunnerFailed (often only a
    peer's broken connection), then a silent non-zero exit.
    """
    if not exits and not signalled:
        main = outcomes.get(0)
        if main and main["event"] == "result" and len(outcomes) == world_size:
            return main["result"]
        raise HalaError("RunnerFailed", f"the launcher ended without a result from every rank "
                                        f"(outcomes from ranks {sorted(outcomes)} of {world_size})")
    counted = sorted(range(world_size) if signalled else exits)
    errors = {r: outcomes[r] for r in counted if outcomes.get(r, {}).get("event") == "error"}
    for r in counted:
        code = exits.get(r)
        if r not in outcomes and code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
            why = " (most likely the kernel's OOM killer)" if code == -signal.SIGKILL else ""
            raise HalaError(silent_exit_type(code), f"rank {r} of {world_size} was killed by {name}{why} without a "
                                                    f"word; the other ranks were stopped; the retry resumes from the "
                                                    f"last checkpoint")
    for r, e in errors.items():
        if e["type"] == "OutOfMemory":
            raise RankOutOfMemory(_on_rank(r, world_size, e["message"]))
        if e["type"] != "RunnerFailed":
            raise HalaError(e["type"], _on_rank(r, world_size, e["message"]))
    for r, e in errors.items():
        raise HalaError("RunnerFailed", _on_rank(r, world_size, e["message"]))
    if signalled:
        raise HalaError("Preempted", "preempted by SIGTERM before any rank reported; the retry resumes from the "
                                     "last checkpoint")
    raise HalaError("RunnerFailed", f"rank(s) {counted} of {world_size} exited with code(s) "
                                    f"{[exits[r] for r in counted]} without a word; see the worker log")


def _on_rank(r: int, world_size: int, message: str) -> str:
    return f"rank {r} of {world_size}: {message}"
