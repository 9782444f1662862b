"""pytest plugin (listed in conftest.py): `tiny_hub`, the tiny-world hub mirror, built once and cached.

    def test_translate(tiny_hub, monkeypatch):
        monkeypatch.setenv("HALA_HUB_MIRROR", str(tiny_hub))
        path = hub.resolve("hf://hala-tiny/command-a-translate")

The first session on a machine builds it with scripts/fixtures.sh (a few minutes on 2 CPUs); every
later session, in any clone with the same generator code, gets the cached path in milliseconds.
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
