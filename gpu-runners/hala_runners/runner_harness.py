"""The harness every stage runner (hala_runners/runners/<name>.py) is built on, and the convention it serves.

The runner convention (every module in hala_runners.runners follows it; the activity side relies on it)
-------------------------------------------------------------------------------------------------------
1. Command: ``python -m hala_runners.runners.<name> --config <config.json>`` with gpu-runners/ on
   PYTHONPATH. The module docstring opens with that exact command.
2. Config: one ``@dataclass(kw_only=True)`` named ``Config``. Its fields are the activity's contract
   input (contracts/gpu-activities.ts, snake_case) plus ``resume`` plus runner-only knobs with
   documented defaults. A field the contract input requires has no default here: the contract
   (and the recipe parser behind it) owns that default, a second copy would drift. ``resume`` is
   None on a first attempt; on a retry it is the last heartbeat
   (``{phase, done, total, checkpoint_uri, metrics}``, contracts/progress.ts): resume from
   ``checkpoint_uri`` or after ``done`` units, else from the newest checkpoint under ``output_prefix``.
   Unknown keys in the JSON are rejected (BadInput naming the key), so contract drift fails loudly.
3. ``main(argv=None) -> int`` is ``return run(Config, _run, argv)``; ``_run(cfg) -> dict`` does the
   work and returns the output dict of the contract. Heavy imports (torch, transformers, vllm,
   llmcompressor) live inside ``_run`` so ``--help`` and the worker stay light.
   The module ends with ``if __name__ == "__main__": sys.exit(main())``.
4. stdout is the protocol (hala_runners.progress): ``emit_progress(phase, done, total,
   checkpoint_uri, **metrics)`` while working (each one becomes a heartbeat; publish a checkpoint
   *before* naming it); ``run`` emits the one ``result`` event, or on an exception one ``error``
   event typed by ``errors.classify`` and exit code 1. Raise ``errors.bad_input(...)`` for anything
   a retry cannot fix, with a message naming the field, the value and the fix. Library chatter goes
   to stderr (the activity forwards it to the worker log).
5. Outputs go below ``output_prefix`` (deterministic per stage key, so a retry finds what an earlier
   attempt left); ``save_config`` writes the resolved config as ``<output_prefix>/config.json``.
   Local scratch space comes from ``scratch_dir(stage_key)``.
6. The activity kills the runner's whole process group on cancellation (SIGTERM, SIGKILL after a
   grace period): keep durable state in published checkpoints, never in cleanup handlers. ``run``
   also makes the runner exit when the worker that started it dies (HALA_PARENT_PID watchdog).
   (translate.py adds a ``--serve`` mode: the same protocol, one config per stdin line, so the
   infer worker keeps one model loaded across shards; see hala_runners.engines.service. It answers
   each failed line through ``report_failure``, the error handling of ``run``.)

Minimal runner::

    @dataclass(kw_only=True)
    class Config:
        stage_key: str
        output_prefix: str
        resume: dict | None = None
        steps: int = 10  # runner-only knob: what it is, its unit, why this default

    def _run(cfg: Config) -> dict:
        save_config(cfg)
        for step in range(cfg.steps):
            progress.emit_progress("work", step + 1, cfg.steps)
        return {...}  # the contract output

    def main(argv=None) -> int:
        return run(Config, _run, argv)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, TypeVar

from . import progress, store
from .errors import HalaError, bad_input, classify

C = TypeVar("C")


def load_config(cls: type[C], path: str | Path) -> C:
    """Build the runner's dataclass from a JSON file; errors name the file and the key."""
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise bad_input(f"runner config {path} does not exist") from None
    except json.JSONDecodeError as e:
        raise bad_input(f"runner config {path} is not JSON: {e}") from None
    return config_from_dict(cls, raw, str(path))


def config_from_dict(cls: type[C], raw: Any, where: str) -> C:
    """Build the runner's dataclass from a decoded JSON object; `where` names its source in errors."""
    if not isinstance(raw, dict):
        raise bad_input(f"runner config {where} must hold a JSON object, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise bad_input(f"{cls.__module__}.Config has no field(s) {unknown} (from {where}); "
                        f"known: {sorted(fields)}. Update the runner or the contract together.")
    missing = sorted(name for name, f in fields.items() if name not in raw
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if missing:
        raise bad_input(f"{cls.__module__}.Config: required field(s) {missing} missing from {where}")
    return cls(**raw)


def save_config(cfg: Any, output_prefix: str | None = None) -> str:
    """Write the resolved config as `<output_prefix>/config.json` (nanoGPT style) and return its URI."""
    prefix = output_prefix or cfg.output_prefix
    uri = store.join(prefix, "config.json")
    store.write_bytes(uri, json.dumps(dataclasses.asdict(cfg), indent=2, sort_keys=True).encode())
    return uri


def reproducible_config(cfg: Any) -> dict:
    """The config as written into an artifact (model cards, merge notes): without `resume`, which
    differs between an interrupted-and-resumed attempt and an undisturbed one, so both write
    byte-identical artifacts (same digest)."""
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k != "resume"}


def work_root() -> Path:
    """Where every stage keeps its local scratch: HALA_WORK_DIR, else the cache's work/."""
    cache = Path(os.environ.get("HALA_CACHE", Path.home() / ".cache" / "hala-flow"))
    return Path(os.environ.get("HALA_WORK_DIR") or cache / "work")


def scratch_dir(stage_key: str) -> Path:
    """A local work directory for one stage, stable across attempts on this machine."""
    path = work_root() / stage_key
    path.mkdir(parents=True, exist_ok=True)
    return path


def killed_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies, however the parent dies
    (PR_SET_PDEATHSIG; Linux only, a no-op elsewhere). Call it first thing in a child, or as a
    Popen preexec_fn / pool initializer: it covers a parent SIGKILLed before any watchdog could act."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def exit_with_parent() -> None:
    """If started by an activity (HALA_PARENT_PID), die with the worker instead of holding the GPU.

    A SIGKILLed worker cannot kill its children's process group; this watchdog thread does it from
    the inside when the parent disappears (we get re-parented, so getppid() changes).
    """
    parent = os.environ.get("HALA_PARENT_PID")
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        if os.getpgrp() == os.getpid():  # we lead our group: take our own children with us
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="hala-parent-watch", daemon=True).start()


def report_failure(exc: BaseException, err: HalaError | None = None, exiting: bool = False) -> HalaError:
    """Emit `exc` as the one typed error event of the current request; return it as a HalaError
    (`err` when the caller classified it already).

    The traceback goes to stderr (the worker log); the activity gets the short typed message.
    `exiting`: a long-lived --serve process says it ends after this event (translate.serve).
    """
    traceback.print_exception(exc, file=sys.stderr)
    err = err or classify(exc)
    progress.emit_error(err.type, err.message, exiting=exiting)
    return err


def run(cls: type[C], body: Callable[[C], dict], argv: list[str] | None = None) -> int:
    """Parse --config, run `body`, emit its result or a typed error. Returns the exit code."""
    doc = getattr(sys.modules.get(cls.__module__), "__doc__", None) or ""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--config", required=True, help="JSON file: the runner's Config fields")
    args = parser.parse_args(argv)
    exit_with_parent()
    try:
        result = body(load_config(cls, args.config))
    except Exception as e:  # noqa: BLE001 - every failure must reach the activity as one typed event
        report_failure(e)
        return 1
    progress.emit_result(result)
    return 0
