"""pytest plugin (listed in conftest.py): `tiny_hub`, the tiny-world hub mirror the repository ships.

    def test_translate(tiny_hub, monkeypatch):
        monkeypatch.setenv("HALA_HUB_MIRROR", str(tiny_hub))
        path = hub.resolve("hf://hala-tiny/command-a-translate")

scripts/fixtures.sh checks it against its committed digest (fixtures/tiny-world/DIGEST) and prints
its path; a mirror that differs fails the session's set-up with both digests.
"""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_hub() -> Path:
    result = subprocess.run(["bash", str(ROOT / "scripts" / "fixtures.sh")], check=True,
                            stdout=subprocess.PIPE, text=True)
    path = Path(result.stdout.strip())
    assert (path / "MANIFEST.json").is_file(), f"fixtures.sh printed {path}, which has no MANIFEST.json"
    return path
