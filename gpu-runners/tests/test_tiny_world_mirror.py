"""The shipped tiny-world mirror (fixtures/tiny-world, checked by scripts/fixtures.sh): built by this
generator, refused by the set-up script when a byte differs, and every manifest entry resolvable.

Run: PYTHONPATH=gpu-runners $(bash scripts/python-env.sh)/bin/python -m pytest gpu-runners/tests/test_tiny_world_mirror.py
"""
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]


# Each world of the mirror: its manifest, by language profile (gpu-runners/tiny_world/profiles).
WORLDS = {"ar": ("MANIFEST.json", "hala-tiny"), "fr": ("MANIFEST.fr.json", "hala-tiny-fr")}


@pytest.mark.parametrize("code", WORLDS)
def test_each_shipped_world_was_built_by_this_generator(tiny_hub, code):
    import json

    from tiny_world.build import generator_digest

    built_by = json.loads((tiny_hub / WORLDS[code][0]).read_text())["generator"]
    assert built_by == generator_digest(code), (
        f"gpu-runners/tiny_world changed since its {code} world in fixtures/tiny-world was built: "
        f"run bash scripts/fixtures.sh --rebuild {code} and commit fixtures/tiny-world")


@pytest.fixture
def clone_of_fixtures(tmp_path):
    """scripts/fixtures.sh and fixtures/tiny-world copied into a scratch tree laid out like the repo."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "fixtures.sh", tmp_path / "scripts")
    shutil.copytree(ROOT / "fixtures" / "tiny-world", tmp_path / "fixtures" / "tiny-world")
    return tmp_path


def _set_up(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(root / "scripts" / "fixtures.sh")], capture_output=True, text=True)


def test_set_up_prints_the_committed_digest_and_the_mirror(clone_of_fixtures):
    committed = (clone_of_fixtures / "fixtures" / "tiny-world" / "DIGEST").read_text().strip()
    done = _set_up(clone_of_fixtures)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(clone_of_fixtures / "fixtures" / "tiny-world" / "hub")
    assert f"tiny world sha256 {committed}" in done.stderr


def test_set_up_refuses_a_mirror_that_differs_naming_both_digests_and_the_file(clone_of_fixtures):
    world = clone_of_fixtures / "fixtures" / "tiny-world"
    committed = (world / "DIGEST").read_text().strip()
    weights = world / "hub" / "hala-tiny" / "lfm2-350m" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of one weight, as another processor's rounding would leave it
    weights.write_bytes(bytes(data))
    done = _set_up(clone_of_fixtures)
    assert done.returncode == 1
    assert done.stdout == ""
    found = re.search(r"its digest is sha256 ([0-9a-f]{64}), the repository commits sha256 ([0-9a-f]{64})", done.stderr)
    assert found, done.stderr
    assert found.group(2) == committed and found.group(1) != committed
    assert "hala-tiny/lfm2-350m/model.safetensors" in done.stderr
    assert "scripts/fixtures.sh --rebuild" in done.stderr



@pytest.mark.parametrize("code", WORLDS)
def test_mirror_resolves_every_manifest_entry_and_the_teacher_translates(tiny_hub, monkeypatch, code):
    import json

    from hala_runners import hub

    manifest_file, org = WORLDS[code]
    manifest = json.loads((tiny_hub / manifest_file).read_text())
    monkeypatch.setenv("HALA_HUB_MIRROR", str(tiny_hub))
    for model_id in manifest["models"]:
        assert (hub.resolve(f"hf://{model_id}") / "model.safetensors").is_file()
    for path, entry in manifest["datasets"].items():
        resolved = hub.resolve(f"hf://{path}")
        if path.endswith(".parquet"):
            assert pq.read_metadata(resolved).num_rows == entry["rows"]
    models = manifest["models"]
    assert models[f"{org}/command-a-translate"]["chrf_pp_held_out"] >= 70
    assert models[f"{org}/lfm2-1.2b"]["chrf_pp_untrained"] < 25
