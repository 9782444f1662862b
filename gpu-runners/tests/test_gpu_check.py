"""bench/gpu-check.sh, checked cheaply without a GPU: the carried wheels' size, the report after each
part, a part without its module skipped, and nothing left running when the overall timeout strikes.

The wheel test downloads only through the script's own fetch, into the keyed cache outside the clone
(~/.cache/hala-flow/gpu-check-wheels/<hash of the list>), once; it is skipped where pip cannot
download and the cache is empty.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu-check.sh"
sys.path.insert(0, str(ROOT / "bench"))

import gpu_check_parts  # noqa: E402  (bench/ is no package)
import gpu_check_wheels  # noqa: E402


def test_dry_run_lists_every_wheel_and_stays_under_the_limit():
    done = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=600)
    if done.returncode == gpu_check_wheels.DOWNLOAD_FAILED:
        pytest.skip(f"pip cannot download the wheels here and the cache is empty: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr
    for name, version in gpu_check_wheels.pins():
        assert f"{name}=={version}" in done.stdout
    total = re.search(r"total ([\d.]+) MiB of 60 MiB allowed", done.stdout)
    assert total and float(total[1]) < 60, done.stdout
    assert str(ROOT) not in gpu_check_wheels.CACHE.resolve().as_posix(), "the cache lies outside the clone"


def test_over_the_limit_fails_loudly():
    with pytest.raises(gpu_check_wheels.WheelError, match="over the 60 MiB limit"):
        gpu_check_wheels.check_total(61 * 2**20)
    gpu_check_wheels.check_total(59 * 2**20)


def test_the_list_is_name_equals_version_and_its_key_follows_it(tmp_path):
    listed = tmp_path / "wheels.txt"
    listed.write_text("# why\ntrl==1.16.0  # SFT\n\ndatasets==5.2.0\n")
    assert gpu_check_wheels.pins(listed) == [("trl", "1.16.0"), ("datasets", "5.2.0")]
    before = gpu_check_wheels.key(listed)
    listed.write_text("trl==1.16.0\ndatasets==5.2.1\n")
    assert gpu_check_wheels.key(listed) != before
    listed.write_text("trl>=1.16\n")
    with pytest.raises(gpu_check_wheels.WheelError, match="name==version"):
        gpu_check_wheels.pins(listed)
    listed.write_text("pydantic_core==2.50.5\npydantic-core==2.50.5\n")
    with pytest.raises(gpu_check_wheels.WheelError, match="twice"):
        gpu_check_wheels.pins(listed)


def test_a_carried_folder_from_another_list_is_refused(tmp_path):
    (tmp_path / gpu_check_wheels.KEY_FILE).write_text("0" * 16 + "\n")
    with pytest.raises(gpu_check_wheels.WheelError, match="not filled from this"):
        gpu_check_wheels.verify(tmp_path)


def test_a_part_whose_module_is_missing_is_skipped_naming_it(monkeypatch, tmp_path):
    def never(work_root, on_gpu):
        raise AssertionError("a part without its module must not run")

    monkeypatch.setitem(gpu_check_parts.PARTS, "compress", (["hala_runners.no_such_module"], None, never, 60))
    outcome = gpu_check_parts.run_part("compress", tmp_path, rows=1)
    assert outcome["status"] == "skipped" and "hala_runners.no_such_module" in outcome["why"]
    assert "gpu-check-wheels.txt" in outcome["why"]
    if gpu_check_parts.missing(["vllm"]):  # the runners' venv has none (its tests use a fake behind the interface)
        assert gpu_check_parts.run_part("translate_vllm", tmp_path, rows=1) == \
            {"status": "skipped", "why": "vllm is not installed on this machine", "figures": {}}


def _report(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _processes_naming(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args:
            found.append(f"{cmdline.parent.name}: {args[:200]}")
    return found


def test_the_report_is_written_after_each_part_and_a_timeout_leaves_nothing_running(tmp_path, hub_mirror):
    """doctor, then evaluate; once the report holds doctor the overall timeout's SIGTERM arrives (sent to
    `timeout` as it would send it): the report keeps doctor, names evaluate as stopped, and none of the
    processes the check started outlives it."""
    env = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable, "HALA_HUB_MIRROR": str(hub_mirror)}
    proc = subprocess.Popen(["bash", str(SCRIPT), "--allow-cpu", "--parts", "doctor,evaluate"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    report_path = tmp_path / "gpu-check.json"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            report = _report(report_path)
            if report and report["parts"]:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        else:
            pytest.fail("no part reported within 90 s")
        doctor = report["parts"][0]
        assert doctor["name"] == "doctor" and {"status", "seconds", "figures"} <= set(doctor)
        if gpu_check_parts.missing([gpu_check_parts.DOCTOR]):
            assert doctor["status"] == "skipped" and doctor["why"] == "hala_runners.doctor_probe not present"
        runner = f"{report['work']}/evaluate/evaluate-"  # its config file, named on the runner's command line
        while not _processes_naming(runner):  # the evaluate runner is under way (it takes ~20 s on CPU)
            assert time.monotonic() < deadline and proc.poll() is None, "the evaluate runner never started"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)  # proc is `timeout`: it passes the signal on, as at its limit
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 124, stderr
    report = _report(report_path)
    assert [p["name"] for p in report["parts"]] == ["doctor", "evaluate"]
    assert report["parts"][1]["status"] == "failed" and "overall timeout" in report["parts"][1]["why"]
    assert report["complete"] is False and json.loads(stdout) == report
    assert _processes_naming(report["work"]) == [], "a part or runner outlived the check"
    assert report["work_removed"] and not os.path.exists(report["work"]), "the runners' scratch, a temp folder of the script's, is gone"
