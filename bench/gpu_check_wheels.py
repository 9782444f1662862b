"""The wheels bench/gpu-check.sh carries to a lent GPU machine: fetch them here, list them, check them there.

    python3 bench/gpu_check_wheels.py dry-run        download into the keyed cache if needed, print each
                                                     wheel with its size and the total (exit 1 over the limit)
    python3 bench/gpu_check_wheels.py fetch          the same, then copy them into .whl/ (what `carry` sends)
    python3 bench/gpu_check_wheels.py verify DIR     on the machine: DIR holds exactly the listed wheels

The one list is bench/gpu-check-wheels.txt. The cache is ~/.cache/hala-flow/gpu-check-wheels/<key>,
outside the clone, <key> a digest of the list's name==version lines: editing the list fetches anew,
and a .whl/ left from an older list is refused on the machine instead of installing the wrong set.
Standard library only: it runs under any python3 that has pip (the runners' venv has none).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "bench" / "gpu-check-wheels.txt"
CARRIED = ROOT / ".whl"
KEY_FILE = "WHEELS-KEY"  # written into .whl/: which list it was filled from
LIMIT_BYTES = 60 * 2**20  # the working tree travels in 64 MiB; the tree itself is ~10 MiB
CACHE = Path(os.environ.get("HALA_GPU_CHECK_WHEEL_CACHE", Path.home() / ".cache" / "hala-flow" / "gpu-check-wheels"))
# The lent machine: CPython 3.12 on x86-64 Linux (glibc). pip matches manylinux tags one by one.
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]
DOWNLOAD_FAILED = 3  # exit code: no network or no such wheel (the test skips on it rather than failing)


class WheelError(Exception):
    pass


def pins(list_file: Path = LIST) -> list[tuple[str, str]]:
    """(name, version) of each `name==version` line; comments and blank lines skipped."""
    out = []
    for n, raw in enumerate(list_file.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        if not m:
            raise WheelError(f"{list_file}:{n}: expected name==version, got {raw!r}")
        out.append((m[1], m[2]))
    names = [canonical(name) for name, _ in out]
    if len(set(names)) != len(names):  # two versions of one package stop the whole install there
        raise WheelError(f"{list_file}: a package is listed twice")
    return out


def canonical(name: str) -> str:
    """The name as wheel files spell it (PEP 427: runs of -_. become _, lowercase)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def key(list_file: Path = LIST) -> str:
    return hashlib.sha256("\n".join(f"{canonical(n)}=={v}" for n, v in pins(list_file)).encode()).hexdigest()[:16]


def wheel_for(folder: Path, name: str, version: str) -> Path | None:
    want = f"{canonical(name)}-{version}-"
    found = [f for f in folder.glob("*.whl") if f.name.lower().startswith(want.lower())]
    return found[0] if found else None


def download(pinned: list[tuple[str, str]], folder: Path) -> None:
    """pip download every pin at once (no dependencies: the list names them) for the machine's tags."""
    pip = os.environ.get("HALA_PIP", f"{sys.executable} -m pip").split()
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    cmd = [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
           "--implementation", "cp", *platforms, "-d", str(folder), *(f"{n}=={v}" for n, v in pinned)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise WheelError(f"pip download failed ({' '.join(cmd[:3])} ...):\n{done.stderr.strip()[-2000:]}")


def cached(list_file: Path = LIST) -> tuple[Path, list[tuple[str, str, Path]]]:
    """The keyed cache folder, filled if it is not complete; (pin name, version, wheel file) each."""
    pinned = pins(list_file)
    folder = CACHE / key(list_file)
    if not (folder / KEY_FILE).exists():
        partial = CACHE / f".partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            download(pinned, partial)
            (partial / KEY_FILE).write_text(key(list_file) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)  # complete or absent: a killed fetch leaves no half cache under the key
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    wheels = []
    for name, version in pinned:
        wheel = wheel_for(folder, name, version)
        if wheel is None:
            raise WheelError(f"{folder} lacks {name}=={version}: delete that folder and fetch again")
        wheels.append((name, version, wheel))
    return folder, wheels


def report(wheels: list[tuple[str, str, Path]], where: Path) -> int:
    """Print each wheel with its size and the total; the total's size in bytes."""
    total = sum(w.stat().st_size for _, _, w in wheels)
    print(f"gpu-check: {len(wheels)} wheels to carry ({LIST.relative_to(ROOT)}; from {where}):")
    for name, version, wheel in wheels:
        print(f"  {name + '==' + version:<38} {wheel.stat().st_size / 2**10:>9.1f} KiB  {wheel.name}")
    print(f"gpu-check: total {total / 2**20:.2f} MiB of {LIMIT_BYTES / 2**20:.0f} MiB allowed")
    return total


def check_total(total: int) -> None:
    if total > LIMIT_BYTES:
        raise WheelError(f"the wheels total {total / 2**20:.2f} MiB, over the {LIMIT_BYTES / 2**20:.0f} MiB limit: "
                         f"the working tree and .whl/ must travel in 64 MiB; carry fewer wheels")


def sync(wheels: list[tuple[str, str, Path]], list_key: str, dest: Path = CARRIED) -> None:
    """Make `dest` hold exactly these wheels (copies: a link would travel as a link) and the list's key."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    for _, _, wheel in wheels:
        shutil.copy2(wheel, dest / wheel.name)
    (dest / KEY_FILE).write_text(list_key + "\n")


def verify(folder: Path, list_file: Path = LIST) -> None:
    """On the machine: `folder` was filled from this very list, and holds each listed wheel and no other."""
    stamp = folder / KEY_FILE
    if not stamp.exists() or stamp.read_text().strip() != key(list_file):
        raise WheelError(f"{folder} was not filled from this {list_file.name}: run `bash bench/gpu-check.sh --fetch` "
                         "where pip can download, then carry .whl again")
    listed = {wheel_for(folder, n, v) for n, v in pins(list_file)}
    if None in listed or listed != set(folder.glob("*.whl")):
        raise WheelError(f"{folder} does not hold exactly the wheels of {list_file.name}: fetch again")


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["verify"] and len(argv) == 2:
            verify(Path(argv[1]))
            return 0
        if argv not in (["dry-run"], ["fetch"]):
            print(__doc__, file=sys.stderr)
            return 2
        pins()  # a malformed list is an error of its own, not a failed download
        try:
            folder, wheels = cached()
        except (WheelError, OSError, subprocess.TimeoutExpired) as e:
            print(f"gpu-check: cannot fetch the wheels: {e}", file=sys.stderr)
            return DOWNLOAD_FAILED
        check_total(report(wheels, folder))
        if argv == ["fetch"]:
            sync(wheels, key())
            print(f"gpu-check: copied into {CARRIED} (carry it: run tool, carry [\".whl\"])")
        return 0
    except WheelError as e:
        print(f"gpu-check: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
