"""The JSON-lines protocol between a runner subprocess and the activity that started it.

A runner prints one JSON object per line on stdout:
  {"event": "progress", "phase": ..., "done": n, "total": n, "checkpoint_uri": ..., "metrics": {...}}
  {"event": "result", "result": {...}}        (exactly once, last, on success)
  {"event": "error", "type": ..., "message": ...}
      (+ "exiting": true from a long-lived --serve engine that ends after it: start a fresh one)
Anything else on stdout is a log line. Libraries' chatter goes to stderr.
"""
from __future__ import annotations

import json
import sys
from typing import Any


def _write(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def emit_progress(phase: str, done: int, total: int, checkpoint_uri: str | None = None, **metrics: float) -> None:
    _write({"event": "progress", "phase": phase, "done": int(done), "total": int(total),
            "checkpoint_uri": checkpoint_uri, "metrics": {k: float(v) for k, v in metrics.items()}})


def emit_result(result: dict[str, Any]) -> None:
    _write({"event": "result", "result": result})


def emit_error(type: str, message: str, exiting: bool = False) -> None:
    _write({"event": "error", "type": type, "message": message, **({"exiting": True} if exiting else {})})


def parse_line(line: str) -> dict[str, Any] | None:
    """The event on a stdout line, or None for a plain log line."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) and obj.get("event") in ("progress", "result", "error") else None
