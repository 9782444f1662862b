"""runner_harness: the one error path of every runner (`run`, and translate's --serve loop)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hala_runners import progress
from hala_runners.errors import bad_input, classify
from hala_runners.runner_harness import report_failure


def test_a_failure_is_one_typed_error_event_on_stdout_and_its_traceback_on_stderr(capsys):
    try:
        raise bad_input("score_translation.tokenize must be intl, 13a or flores200 (got 'zh')")
    except Exception as e:  # noqa: BLE001 - as in the harness: any failure
        err = report_failure(e)
    out, log = capsys.readouterr()
    assert err.type == "BadInput" and err.non_retryable
    assert [progress.parse_line(line) for line in out.splitlines()] == [
        {"event": "error", "type": "BadInput", "message": err.message}]
    assert "Traceback" in log and "tokenize must be" in log


def test_an_unknown_failure_is_classified_before_it_is_reported(capsys):
    try:
        raise MemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    except Exception as e:  # noqa: BLE001
        err = report_failure(e)
    event = json.loads(capsys.readouterr().out)
    assert err.type == event["type"] == "OutOfMemory" and not err.non_retryable


@pytest.mark.parametrize("exc", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                 "you tried to allocate 1638400000 bytes. Error code 12 (Cannot allocate memory)"),
    MemoryError(),  # Python's own, with no words at all
])
def test_the_cpu_allocator_refusing_memory_is_out_of_memory(exc):
    assert classify(exc).type == "OutOfMemory"


def test_a_library_error_raised_at_the_address_space_limit_is_out_of_memory():
    """oneDNN refuses a primitive in its own words when its allocation is refused; the limit tells."""
    import subprocess
    import sys

    probe = """
import resource, sys
from hala_runners.errors import classify
held = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()
if sys.argv[1] == 'capped':
    resource.setrlimit(resource.RLIMIT_AS, (held + 16 * 2**20, resource.RLIM_INFINITY))
print(classify(RuntimeError('could not create a primitive')).type)
"""
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    types = [subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, env=env, check=True).stdout.strip()
             for mode in ("capped", "free")]
    assert types == ["OutOfMemory", "RunnerFailed"]
